/* The fast engine's epoch, compiled: FastEngine.step's math with no per-op dispatch, for every game
 * it plays on the CPU: the seed's minibatch view, and the per-sample and packed views with R1/R2. At
 * K = 1 the torch step is ~60 kernels of a few microseconds each, bound by dispatch, and the robust
 * recipes' ~130 are bound by elementwise passes; here one call plays one epoch for every member.
 * The D-guided sampler's critics (sampler.py: D steps with R1 on a per-sample view) train here too,
 * every one of a fit in one call (kernel_critics), at about a quarter of the torch ops' time a step.
 *
 * Built when ganfit is installed (setup.py), once per instruction set: avx512 (AVX-512 F/VL/BW/DQ and
 * FMA), avx2 (AVX2 and FMA) and generic (the architecture's baseline: SSE2 on x86-64, NEON on arm64);
 * native.py loads the best one that kernel_cpu_level() says the CPU runs. No -ffast-math: every sum
 * runs in an order written here, the same for any vector width (a reduction that the compiler
 * reassociates would sum in 8 or 16 lanes), and exp_ is ours, so that the avx512 and avx2 variants
 * give the same bits (tests/game/test_native.py). Each net's scratch is its own (carve). Checked against
 * the torch step in tests/game/test_compiled.py.
 *
 * Layouts are FlatNet's: per member, theta = [W0 (in x out, row-major), b0, W1, b1, ...]; inputs are
 * the draws' [steps, K, B, dim]. Row convention: y = x W + b. */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* Bumped whenever Game, Net, a code or a signature changes: native.py refuses a library of another ABI. */
#define KERNEL_ABI 7
#ifndef KERNEL_SOURCE
#define KERNEL_SOURCE "unknown" /* setup.py defines it: the sha256 of this file, checked at load */
#endif

enum { ELU, SIGMOID, TANH, RELU, LEAKY };
enum { BCE, MINIMAX, LSGAN, HINGE, WGAN };
#define MAXL 16
#define MAXT 256

typedef struct {
    int layers, sizes[MAXL + 1], acts[MAXL];
    long P;                            /* parameters per member */
    float *theta, *grad, *m, *v, *steps;
    const double *lr, *beta1, *beta2;  /* per member */
    float lr_scale;
    int sgd;                           /* 1: plain gradient descent instead of Adam (config.optimizer) */
} Net;

typedef struct {
    int K, B, dim, zdim, diffs, d_steps, g_steps, loss, threads;
    int m;        /* samples per D input: 1 (sample view), m (pack); 0: the seed's minibatch view */
    float r1, r2; /* R1 and R2 gammas (0: off) */
    Net G, D;
    float *ema, ema_weight; /* G's moving average [K, P] (NULL: none), lerped towards G after its steps */
    float *logits_d, *logits_g, *fakes; /* out: [K, 2R], [K, R], [K, (d_steps + 1) B, dim]; R: D inputs per batch */
    float *work;                        /* scratch: threads x kernel_work floats (compiled.py) */
    const int *g_kinds; /* [K]: member k's activation after each of G's hidden layers (NULL: G.acts) */
} Game;

/* e^x, Cephes' expf: x clamped to [-87, 88] (a finite, normal result: no inf reaches a division), then
 * x = n ln2 + r, |r| <= ln2 / 2, and 2^n from the exponent bits. Plain IEEE operations that the compiler
 * vectorises without -ffast-math, where libm's expf would be a call per value. Within 2 ulp of expf. */
static inline float exp_(float x) {
    x = x < -87.0f ? -87.0f : x > 88.0f ? 88.0f : x;
    const float n = (x * 1.44269504f + 12582912.0f) - 12582912.0f; /* round to nearest: 1.5 * 2^23 */
    const float r = (x - n * 0.693359375f) - n * -2.12194440e-4f;  /* ln 2 in two parts (Cody-Waite) */
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    const int bits = ((int)n + 127) << 23;
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    return (p * r * r + r + 1.0f) * scale;
}

/* y = act(y) over n values, one loop per activation so that each vectorises */
static void act(int a, float *y, long n) {
    switch (a) {
    case ELU:
        for (long i = 0; i < n; i++) y[i] = y[i] > 0 ? y[i] : exp_(y[i]) - 1.0f;
        break;
    case SIGMOID:
        for (long i = 0; i < n; i++) y[i] = 1.0f / (1.0f + exp_(-y[i]));
        break;
    case TANH:
        for (long i = 0; i < n; i++) y[i] = 1.0f - 2.0f / (exp_(2.0f * y[i]) + 1.0f);
        break;
    case RELU:
        for (long i = 0; i < n; i++) y[i] = y[i] > 0 ? y[i] : 0.0f;
        break;
    default:
        for (long i = 0; i < n; i++) y[i] = y[i] > 0 ? y[i] : 0.2f * y[i];
    }
}

static inline float act_grad(int a, float y) { /* d act / d x, from the output y */
    switch (a) {
    case ELU: return y > 0 ? 1.0f : y + 1.0f;
    case SIGMOID: return y * (1.0f - y);
    case TANH: return 1.0f - y * y;
    case RELU: return y > 0 ? 1.0f : 0.0f;
    default: return y > 0 ? 1.0f : 0.2f;
    }
}

static inline float act_second(int a, float y) { /* d^2 act / d x^2, from the output y (ACT_SECOND) */
    switch (a) {
    case ELU: return y > 0 ? 0.0f : y + 1.0f;
    case SIGMOID: return y * (1.0f - y) * (1.0f - 2.0f * y);
    case TANH: return -2.0f * y * (1.0f - y * y);
    default: return 0.0f;
    }
}

/* y = e * g * act''(h) over n values, one loop per activation (vectorised); 0 where act'' is */
static void act_second_term(int a, float *restrict y, const float *restrict e, const float *restrict g,
                            const float *restrict h, long n) {
    switch (a) {
    case ELU:
        for (long i = 0; i < n; i++) y[i] = e[i] * g[i] * act_second(ELU, h[i]);
        break;
    case SIGMOID:
        for (long i = 0; i < n; i++) y[i] = e[i] * g[i] * act_second(SIGMOID, h[i]);
        break;
    case TANH:
        for (long i = 0; i < n; i++) y[i] = e[i] * g[i] * act_second(TANH, h[i]);
        break;
    default:
        for (long i = 0; i < n; i++) y[i] = 0.0f;
    }
}

/* y *= act'(h) over n values, one loop per activation (vectorised) */
static void times_act_grad(int a, float *restrict y, const float *restrict h, long n) {
    switch (a) {
    case ELU:
        for (long i = 0; i < n; i++) y[i] *= act_grad(ELU, h[i]);
        break;
    case SIGMOID:
        for (long i = 0; i < n; i++) y[i] *= act_grad(SIGMOID, h[i]);
        break;
    case TANH:
        for (long i = 0; i < n; i++) y[i] *= act_grad(TANH, h[i]);
        break;
    case RELU:
        for (long i = 0; i < n; i++) y[i] *= act_grad(RELU, h[i]);
        break;
    default:
        for (long i = 0; i < n; i++) y[i] *= act_grad(LEAKY, h[i]);
    }
}

static float sigm(float t) { return 1.0f / (1.0f + exp_(-t)); }

/* d loss / d logit: on real (which = 0), on fake (1), G's on fake (2) */
static float loss_grad(int loss, int which, float t) {
    switch (loss) {
    case BCE: return which == 1 ? sigm(t) : sigm(t) - 1.0f;
    case MINIMAX: return which == 0 ? sigm(t) - 1.0f : which == 1 ? sigm(t) : -sigm(t);
    case LSGAN: return which == 1 ? t : t - 1.0f;
    case HINGE: return which == 0 ? -(float)(t < 1) : which == 1 ? (float)(t > -1) : -1.0f;
    default: return which == 1 ? 1.0f : -1.0f;
    }
}

/* Products. The widest vectors the variant has (AVX-512: 16 floats; else 8), tiles of MR rows x 2 vectors
 * held in registers, as a BLAS micro-kernel does: within 10% of MKL's sgemm at the recipes' sizes. Each
 * output sums its products in k's order whatever the width, and outputs narrower than NARROW take the
 * same path on every variant, so the widths give the same bits. */
#ifdef __AVX512F__
#define VW 16
#else
#define VW 8
#endif
#define NARROW 16 /* >= every VW */
typedef float v8 __attribute__((vector_size(32), aligned(4))); /* the narrow dot products' 8 partial sums */
#define MR 6
typedef float vf __attribute__((vector_size(4 * VW), aligned(4))); /* unaligned loads allowed */
typedef int vi __attribute__((vector_size(4 * VW), aligned(4)));
#define LD(p) (*(const vf *)(p))
#define ST(p, v) (*(vf *)(p) = (v))

/* nr x nv*VW outputs y[j, v] = init[j, v] + sum_k A(j, k) B[k, v], A(j, k) = A[j aj + k ak]; nr and nv
 * are constants where it is inlined, so the accumulators live in registers. Lanes below `keep` of a
 * one-vector tile are left as they are: the last tile of a row overlaps the one before it. */
static inline __attribute__((always_inline)) void tile(const float *A, long aj, long ak, int n, const float *Bm,
                                                       int ldb, const float *init, long istride, float *y, int ldy,
                                                       int nr, int nv, int keep) {
    vf a[MR][2];
    for (int j = 0; j < nr; j++)
        for (int v = 0; v < nv; v++) a[j][v] = init ? LD(init + j * istride + v * VW) : (vf){0};
    for (int k = 0; k < n; k++) {
        vf b[2];
        for (int v = 0; v < nv; v++) b[v] = LD(Bm + (long)k * ldb + v * VW);
        for (int j = 0; j < nr; j++)
            for (int v = 0; v < nv; v++) a[j][v] += A[j * aj + k * ak] * b[v];
    }
    vi lane, mask;
    for (int l = 0; l < VW; l++) lane[l] = l;
    mask = lane >= keep;
    for (int j = 0; j < nr; j++)
        for (int v = 0; v < nv; v++) {
            float *p = y + (long)j * ldy + v * VW;
            ST(p, keep ? (vf)(((vi)a[j][v] & mask) | ((vi)LD(p) & ~mask)) : a[j][v]);
        }
}

/* y (rows x out) = init + A B, A(j, k) = A[j aj + k ak] rows x n, B n x out (row-major); init: NULL
 * (zeros) or rows x out with row stride istride (0: one row, a bias). y may be init (accumulation). */
static void gemm(const float *A, long aj, long ak, int rows, int n, const float *Bm, int out, const float *init,
                 long istride, float *y) {
    if (out < NARROW) { /* a narrow output (a net's last layer): along the contiguous axis, in chunks */
        enum { CH = 256 };
        float buf[NARROW * CH];
        for (int r = 0; r < rows; r++)
            for (int o = 0; o < out; o++) y[(long)r * out + o] = init ? init[r * istride + o] : 0.0f;
        if (ak == 1) { /* dot products of A's rows with B's columns (transposed, CH at a time) */
            for (int k0 = 0; k0 < n; k0 += CH) {
                const int kn = n - k0 < CH ? n - k0 : CH;
                for (int k = 0; k < kn; k++)
                    for (int o = 0; o < out; o++) buf[o * CH + k] = Bm[(long)(k0 + k) * out + o];
                for (int r = 0; r < rows; r++)
                    for (int o = 0; o < out; o++) {
                        const float *a = A + r * aj + k0, *b = buf + o * CH;
                        v8 acc = {0}, ta = {0}, tb = {0};
                        int k = 0;
                        for (; k + 8 <= kn; k += 8) acc += *(const v8 *)(a + k) * *(const v8 *)(b + k);
                        /* the tail as one more zero-padded vector: a scalar loop here is one the compiler
                         * may vectorise as an in-order sum without the fused multiply-adds of the scalar code */
                        for (int t = 0; k + t < kn; t++) ta[t] = a[k + t], tb[t] = b[k + t];
                        acc += ta * tb;
                        y[(long)r * out + o] += ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
                    }
            }
        } else { /* aj == 1: sums of A's rows scaled by B's entries, CH outputs at a time */
            for (int j0 = 0; j0 < rows; j0 += CH) {
                const int jn = rows - j0 < CH ? rows - j0 : CH;
                for (int o = 0; o < out; o++) {
                    float *col = buf;
                    for (int j = 0; j < jn; j++) col[j] = 0.0f;
                    for (int k = 0; k < n; k++) {
                        const float bk = Bm[(long)k * out + o], *ar = A + k * ak + j0;
                        for (int j = 0; j < jn; j++) col[j] += ar[j] * bk;
                    }
                    for (int j = 0; j < jn; j++) y[(long)(j0 + j) * out + o] += col[j];
                }
            }
        }
        return;
    }
    for (int c0 = 0; c0 < out;) {
        int two = out - c0 >= 2 * VW, c = out - c0 >= VW ? c0 : out - VW, keep = c0 - c;
        const float *Bc = Bm + c, *ic = init ? init + c : NULL;
        int r = 0;
        for (; r + MR <= rows; r += MR) {
            const float *Ar = A + r * aj, *ir = ic ? ic + r * istride : NULL;
            if (two) tile(Ar, aj, ak, n, Bc, out, ir, istride, y + (long)r * out + c, out, MR, 2, 0);
            else tile(Ar, aj, ak, n, Bc, out, ir, istride, y + (long)r * out + c, out, MR, 1, keep);
        }
        /* the last rows in one tile (a constant height each: B is read once for them, not once a row;
         * D's rows in the seed's view are 2, G's 200 = 33 x 6 + 2) */
        const float *Ar = A + r * aj, *ir = ic ? ic + r * istride : NULL;
        float *yr = y + (long)r * out + c;
#define REST(nr) two ? tile(Ar, aj, ak, n, Bc, out, ir, istride, yr, out, nr, 2, 0) \
                     : tile(Ar, aj, ak, n, Bc, out, ir, istride, yr, out, nr, 1, keep)
        switch (rows - r) {
        case 1: REST(1); break;
        case 2: REST(2); break;
        case 3: REST(3); break;
        case 4: REST(4); break;
        case 5: REST(5); break;
        }
#undef REST
        c0 = c + (two ? 2 : 1) * VW;
    }
}

/* y = x W (+ b): x rows x in, W in x out */
static void matmul(const float *x, int rows, int in, int out, const float *W, const float *b, float *y) {
    gemm(x, in, 1, rows, in, W, out, b, 0, y);
}

/* dW = x^T g, or dW += x^T g (acc): x rows x in, g rows x out */
static void matmul_tn(const float *x, int rows, int in, int out, const float *g, float *dW, int acc) {
    gemm(x, 1, in, in, rows, g, out, acc ? dW : NULL, out, dW);
}

#if defined(__clang__) || __GNUC__ >= 12
#define SHUFFLE(a, b, ...) __builtin_shufflevector(a, b, __VA_ARGS__)
/* an 8 x 8 block of W (row stride ldw) transposed into Wt (row stride ldt), in registers: 24 shuffles */
static inline void transpose8(const float *W, long ldw, float *Wt, long ldt) {
    v8 r[8], t[8], u[8];
    for (int i = 0; i < 8; i++) r[i] = *(const v8 *)(W + i * ldw);
    for (int i = 0; i < 8; i += 2) {
        t[i] = SHUFFLE(r[i], r[i + 1], 0, 8, 1, 9, 4, 12, 5, 13);
        t[i + 1] = SHUFFLE(r[i], r[i + 1], 2, 10, 3, 11, 6, 14, 7, 15);
    }
    for (int i = 0; i < 8; i += 4)
        for (int h = 0; h < 2; h++) {
            u[i + 2 * h] = SHUFFLE(t[i + h], t[i + h + 2], 0, 1, 8, 9, 4, 5, 12, 13);
            u[i + 2 * h + 1] = SHUFFLE(t[i + h], t[i + h + 2], 2, 3, 10, 11, 6, 7, 14, 15);
        }
    for (int o = 0; o < 4; o++) {
        *(v8 *)(Wt + o * ldt) = SHUFFLE(u[o], u[o + 4], 0, 1, 2, 3, 8, 9, 10, 11);
        *(v8 *)(Wt + (o + 4) * ldt) = SHUFFLE(u[o], u[o + 4], 4, 5, 6, 7, 12, 13, 14, 15);
    }
}
#define BLOCK8 8
#else
#define BLOCK8 (1 << 30) /* a compiler without __builtin_shufflevector: every value by the loop below */
static inline void transpose8(const float *W, long ldw, float *Wt, long ldt) {}
#endif

/* Wt = W^T (W in x out): 8 x 8 blocks in registers, the edges value by value; it only moves values.
 * Not inlined: inside the member's loop its counters were spilled, at a third of the speed. */
static __attribute__((noinline)) void transpose(const float *restrict W, int in, int out, float *restrict Wt) {
    const int in8 = in / BLOCK8 * BLOCK8, out8 = out / BLOCK8 * BLOCK8;
    for (int i0 = 0; i0 < in8; i0 += 8)
        for (int o0 = 0; o0 < out8; o0 += 8) transpose8(W + (long)i0 * out + o0, out, Wt + (long)o0 * in + i0, in);
    for (int o = 0; o < out; o++) /* the edges: columns past out8 on every row, rows past in8 */
        for (int i = o < out8 ? in8 : 0; i < in; i++) Wt[(long)o * in + i] = W[(long)i * out + o];
}

/* y = g W^T: g rows x out, W in x out; Wt: room for W^T */
static void matmul_nt(const float *g, int rows, int in, int out, const float *W, float *Wt, float *y) {
    transpose(W, in, out, Wt);
    matmul(g, rows, out, in, Wt, NULL, y);
}

/* Forward over rows: h[0] = x, h[l + 1] = layer l's output; each h[l] is rows x sizes[l]. */
static void forward(const Net *n, const float *theta, const float *x, int rows, float **h) {
    const float *p = theta;
    h[0] = (float *)x;
    for (int l = 0; l < n->layers; l++) {
        int in = n->sizes[l], out = n->sizes[l + 1];
        matmul(h[l], rows, in, out, p, p + (long)in * out, h[l + 1]);
        if (l < n->layers - 1) act(n->acts[l], h[l + 1], (long)rows * out);
        p += (long)in * out + out;
    }
}

static int widest(const Net *n) {
    int w = 0;
    for (int l = 0; l <= n->layers; l++) w = n->sizes[l] > w ? n->sizes[l] : w;
    return w;
}

static void offsets(const Net *n, long *offs) { /* where each layer's W starts in theta (b follows it) */
    long at = 0;
    for (int l = 0; l < n->layers; l++) offs[l] = at, at += (long)n->sizes[l] * n->sizes[l + 1] + n->sizes[l + 1];
}

/* Backward from g = dL/d output (rows x out): grads into grad (if grad; the weights' added to what is
 * there if acc), dL/d input into gx (if gx). ex (if not NULL): per hidden layer, a term added to dL/d
 * pre-activation (penalty's). tmp: 2 x rows x the widest layer, then room for a W^T. */
static void backward(const Net *n, const float *theta, float **h, int rows, const float *g, float *grad, int acc,
                     float *gx, float *tmp, float **ex) {
    long offs[MAXL], wmax = widest(n);
    offsets(n, offs);
    const float *cur = g;
    float *next = tmp;
    for (int l = n->layers - 1; l >= 0; l--) {
        int in = n->sizes[l], out = n->sizes[l + 1];
        if (grad) {
            float *dW = grad + offs[l], *db = dW + (long)in * out;
            matmul_tn(h[l], rows, in, out, cur, dW, acc);
            for (int o = 0; o < out; o++) db[o] = 0.0f;
            for (int r = 0; r < rows; r++)
                for (int o = 0; o < out; o++) db[o] += cur[(long)r * out + o];
        }
        if (l == 0 && !gx) break;
        float *dst = l == 0 ? gx : next;
        matmul_nt(cur, rows, in, out, theta + offs[l], tmp + 2L * rows * wmax, dst);
        if (l > 0) {
            times_act_grad(n->acts[l - 1], dst, h[l], (long)rows * in);
            if (ex && ex[l - 1])
                for (long j = 0; j < (long)rows * in; j++) dst[j] += ex[l - 1][j];
        }
        cur = dst;
        next = next == tmp ? tmp + (long)rows * wmax : tmp;
    }
}

/* The gradient of R1 (or R2) on D's rows r0..r0 + n - 1, gamma/2 * mean over them of |d out / d input|^2:
 * a double backward (FlatNet.penalty). Its part through d out / d input goes into the weights'
 * gradients (added to them if acc); its part through the activations' second derivatives into ex, per
 * hidden layer with one (ex[i] not NULL), for backward to carry down with D's loss.
 * work: (2 layers + 2) n w floats, w the widest layer, then room for the largest W^T. */
static void penalty(const Net *d, const float *theta, float **h, int r0, int n, float gamma, float *grad, int acc,
                    float **ex, float *work) {
    int L = d->layers;
    long offs[MAXL], w = widest(d);
    offsets(d, offs);
    float *gs[MAXL], *ss[MAXL], *at = work; /* gs[i] = d out / d h_i, ss[i] = d out / d pre-activation i */
    for (int i = 0; i < L; i++) gs[i] = at, at += n * w, ss[i] = at, at += n * w;
    float *r = at, *e = at + n * w, *Wt = at + 2 * n * w;
    const int last = d->sizes[L - 1];
    for (int row = 0; row < n; row++) memcpy(gs[L - 1] + (long)row * last, theta + offs[L - 1], sizeof(float) * last);
    for (int i = L - 1; i >= 1; i--) {
        long cnt = (long)n * d->sizes[i];
        memcpy(ss[i - 1], gs[i], sizeof(float) * cnt);
        times_act_grad(d->acts[i - 1], ss[i - 1], h[i] + (long)r0 * d->sizes[i], cnt);
        matmul_nt(ss[i - 1], n, d->sizes[i - 1], d->sizes[i], theta + offs[i - 1], Wt, gs[i - 1]);
    }
    /* back through that backward: a forward-mode pass along r = dP / d input */
    const float scale = gamma / n;
    for (long j = 0; j < (long)n * d->sizes[0]; j++) r[j] = gs[0][j] * scale;
    for (int i = 0; i < L; i++) {
        int in = d->sizes[i], out = d->sizes[i + 1];
        float *dW = grad + offs[i];
        if (i == L - 1) { /* the last layer's d out / d input is its W^T, on every row */
            if (!acc) memset(dW, 0, sizeof(float) * in);
            for (int row = 0; row < n; row++)
                for (int j = 0; j < in; j++) dW[j] += r[(long)row * in + j];
            break;
        }
        matmul_tn(r, n, in, out, ss[i], dW, acc);
        matmul(r, n, in, out, theta + offs[i], NULL, e);
        const float *y = h[i + 1] + (long)r0 * out;
        const long cnt = (long)n * out;
        if (ex[i]) act_second_term(d->acts[i], ex[i] + (long)r0 * out, e, gs[i + 1], y, cnt);
        memcpy(r, e, sizeof(float) * cnt);
        times_act_grad(d->acts[i], r, y, cnt);
    }
}

/* torch's Adam (no weight decay), per member k, after steps was incremented; or plain gradient descent */
static void adam(Net *n, int k, float step) {
    if (n->sgd) { /* adam.sgd_step: lr * lr_scale rounded to float once, then each product rounded */
        const float lr = (float)(n->lr[k] * n->lr_scale);
        float *p = n->theta + k * n->P, *g = n->grad + k * n->P;
        for (long i = 0; i < n->P; i++) {
            volatile float d = lr * g[i]; /* no fused multiply-add: the torch step rounds the product */
            p[i] -= d;
        }
        return;
    }
    double b1 = n->beta1[k], b2 = n->beta2[k];
    double bc1 = 1.0 - pow(b1, step), bc2 = 1.0 - pow(b2, step);
    float step_size = (float)(n->lr[k] * n->lr_scale / bc1), bc2_sqrt = (float)sqrt(bc2);
    float w1 = (float)(1.0 - b1), fb2 = (float)b2, w2 = (float)(1.0 - b2);
    float *p = n->theta + k * n->P, *g = n->grad + k * n->P, *m = n->m + k * n->P, *v = n->v + k * n->P;
    for (long i = 0; i < n->P; i++) {
        m[i] += w1 * (g[i] - m[i]);
        v[i] = v[i] * fb2 + w2 * g[i] * g[i];
        p[i] -= step_size * m[i] / (sqrtf(v[i]) / bc2_sqrt + 1e-8f);
    }
}

/* the minibatch view of a batch x (B x dim): [x, (x - mean)^2] or x; centred gets x - mean */
static void view(const Game *c, const float *x, float *feat, float *centred) {
    int n = c->B * c->dim;
    memcpy(feat, x, sizeof(float) * n);
    if (!c->diffs) return;
    for (int d = 0; d < c->dim; d++) {
        float mean = 0;
        for (int b = 0; b < c->B; b++) mean += x[b * c->dim + d];
        mean /= c->B;
        for (int b = 0; b < c->B; b++) {
            float e = x[b * c->dim + d] - mean;
            centred[b * c->dim + d] = e;
            feat[n + b * c->dim + d] = e * e;
        }
    }
}

static int inputs(const Game *c) { return c->m ? c->B / c->m : 1; } /* D's inputs per batch */

static long pad(long n) { return (n + 15) & ~15L; } /* 64 bytes */

static long most_weights(const Net *n) { /* the largest in x out: room for a W^T */
    long most = 0;
    for (int l = 0; l < n->layers; l++) {
        long w = (long)n->sizes[l] * n->sizes[l + 1];
        most = w > most ? w : most;
    }
    return most;
}

typedef struct { /* one thread's scratch, carved from its part of Game.work */
    float *hg[MAXL + 1], *hd[MAXL + 1], *z, *g, *gx, *tmp, *centred, *gfake, *ex[MAXL], *pen;
} Scratch;

/* Lays out one thread's scratch from base into s and returns its floats (s NULL: the count only). G's
 * buffers are as wide as G's widest layer and D's as D's: the minibatch view's D input is 2 B dim wide,
 * and sizing G's rows by it would grow with B squared. Each part starts on 64 bytes, and so does every
 * thread's scratch: vectorised loops, whose rounding can depend on alignment, then give a member the
 * same bits on whichever thread plays it. */
static long carve(const Game *c, float *base, Scratch *s) {
    const long R = inputs(c), rows = (long)(c->d_steps + 1) * c->B, wg = widest(&c->G), wd = widest(&c->D);
    const long wt = most_weights(&c->G) > most_weights(&c->D) ? most_weights(&c->G) : most_weights(&c->D);
    const long pass = c->B * wg > 2 * R * wd ? c->B * wg : 2 * R * wd; /* a backward's rows x its widest */
    long at = 0;
#define TAKE(field, n) (s ? (s->field = base + at) : NULL, at += pad(n))
    for (int l = 1; l <= c->G.layers; l++) TAKE(hg[l], rows * wg);
    for (int l = 0; l <= c->D.layers; l++) TAKE(hd[l], 2 * R * wd);
    TAKE(z, rows * c->zdim);
    TAKE(g, 2 * R);
    TAKE(gx, 2 * R * wd);
    TAKE(tmp, 2 * pass + wt); /* backward's two gradients between layers, then a W^T */
    TAKE(centred, 3L * c->B * c->dim);
    if (s) s->gfake = s->centred + 2L * c->B * c->dim;
    if (c->r1 || c->r2) {
        for (int i = 0; i < c->D.layers - 1; i++) /* only where the activation's second derivative is not 0 */
            if (c->D.acts[i] != RELU && c->D.acts[i] != LEAKY) TAKE(ex[i], 2 * R * wd);
        TAKE(pen, (2L * c->D.layers + 2) * R * wd + most_weights(&c->D));
    }
#undef TAKE
    return at;
}

long kernel_work(const Game *c) { return carve(c, NULL, NULL); } /* floats of scratch one thread needs */

/* One D step for member k on a real and a fake batch (B x dim each): D's loss, R1/R2, Adam. */
static void d_step(Game *c, int k, int s, const float *real, const float *fake, Scratch *w) {
    Net *D = &c->D;
    const int R = inputs(c), F = D->sizes[0];
    float *dt = D->theta + k * D->P, *grad = D->grad + k * D->P;
    if (c->m) { /* per sample or pack: a batch is R inputs of F values, as it lies in memory */
        memcpy(w->hd[0], real, sizeof(float) * R * F);
        memcpy(w->hd[0] + (long)R * F, fake, sizeof(float) * R * F);
    } else {
        view(c, real, w->hd[0], w->centred);
        view(c, fake, w->hd[0] + F, w->centred);
    }
    forward(D, dt, w->hd[0], 2 * R, w->hd);
    const float *t = w->hd[D->layers];
    for (int r = 0; r < 2 * R; r++) { /* each loss is a mean over D's inputs */
        w->g[r] = loss_grad(c->loss, r >= R, t[r]) / R;
        c->logits_d[(long)k * 2 * R + r] = t[r];
    }
    int acc = 0;
    if (c->r1 || c->r2) {
        for (int i = 0; i < D->layers - 1; i++)
            if (w->ex[i]) memset(w->ex[i], 0, sizeof(float) * 2 * R * D->sizes[i + 1]);
        if (c->r1) penalty(D, dt, w->hd, 0, R, c->r1, grad, acc, w->ex, w->pen), acc = 1;
        if (c->r2) penalty(D, dt, w->hd, R, R, c->r2, grad, acc, w->ex, w->pen), acc = 1;
    }
    backward(D, dt, w->hd, 2 * R, w->g, grad, acc, NULL, w->tmp, acc ? w->ex : NULL);
    adam(D, k, *D->steps + s + 1);
}

/* G's loss's gradient at its samples fake (B x dim) through D, into w->gfake (returned) */
static const float *g_grad(Game *c, int k, const float *fake, Scratch *w) {
    Net *D = &c->D;
    const int R = inputs(c);
    const float *dt = D->theta + k * D->P, *x = fake;
    float *h[MAXL + 1]; /* w->hd, with h[0] the input: the fake batch itself where the view is its memory */
    memcpy(h, w->hd, sizeof h);
    if (!c->m) view(c, fake, w->hd[0], w->centred), x = w->hd[0];
    forward(D, dt, x, R, h);
    const float *t = h[D->layers];
    for (int r = 0; r < R; r++) {
        w->g[r] = loss_grad(c->loss, 2, t[r]) / R;
        c->logits_g[(long)k * R + r] = t[r];
    }
    backward(D, dt, h, R, w->g, NULL, 0, w->gx, w->tmp, NULL);
    if (c->m) return w->gx; /* R inputs of F values: the batch's B x dim */
    const int n = c->B * c->dim;
    for (int i = 0; i < n; i++) /* d/dx of [x, (x - m)^2] with m constant */
        w->gfake[i] = c->diffs ? w->gx[i] + 2.0f * w->centred[i] * w->gx[n + i] : w->gx[i];
    return w->gfake;
}

/* One epoch for member k, with its own scratch. Members share nothing but the step counts, read here
 * and incremented by kernel_step after every member is done. */
static void member(Game *c, const float *real, const float *z_d, const float *z_g, int k, Scratch *w) {
    const int K = c->K, B = c->B, dim = c->dim, zd = c->zdim;
    const long rows = (long)(c->d_steps + 1) * B;
    float *gt = c->G.theta + k * c->G.P, *gg = c->G.grad + k * c->G.P, *sub[MAXL + 1];
    Net G = c->G; /* member k's G: its own activation where g_kinds gives one */
    if (c->g_kinds)
        for (int l = 0; l < MAXL; l++) G.acts[l] = c->g_kinds[k];
    /* G's weights are the same for every D step and the first G step: one forward for all */
    for (int s = 0; s < c->d_steps; s++)
        memcpy(w->z + (long)s * B * zd, z_d + ((long)s * K + k) * B * zd, sizeof(float) * B * zd);
    memcpy(w->z + (long)c->d_steps * B * zd, z_g + (long)k * B * zd, sizeof(float) * B * zd);
    forward(&G, gt, w->z, (int)rows, w->hg);
    float *fk = w->hg[c->G.layers];
    memcpy(c->fakes + (long)k * rows * dim, fk, sizeof(float) * rows * dim);
    for (int s = 0; s < c->d_steps; s++) /* D: real labelled 1, G's samples 0 */
        d_step(c, k, s, real + ((long)s * K + k) * B * dim, fk + (long)s * B * dim, w);
    for (int s = 0; s < c->g_steps; s++) { /* G: make D say 1, D's weights untouched */
        float **h = w->hg, *fake = fk + (long)c->d_steps * B * dim;
        if (s > 0) {
            memcpy(w->z, z_g + ((long)s * K + k) * B * zd, sizeof(float) * B * zd);
            forward(&G, gt, w->z, B, w->hg);
            fake = w->hg[c->G.layers];
        } else { /* G's rows of the joint forward */
            sub[0] = w->z + (long)c->d_steps * B * zd;
            for (int l = 1; l <= c->G.layers; l++) sub[l] = w->hg[l] + (long)c->d_steps * B * c->G.sizes[l];
            h = sub;
        }
        backward(&G, gt, h, B, g_grad(c, k, fake, w), gg, 0, NULL, w->tmp, NULL);
        adam(&c->G, k, *c->G.steps + s + 1);
    }
    if (c->ema) { /* torch.lerp's two forms, as game.py's _foreach_lerp_ */
        float *e = c->ema + k * c->G.P, a = c->ema_weight;
        if (a < 0.5f)
            for (long i = 0; i < c->G.P; i++) e[i] += a * (gt[i] - e[i]);
        else
            for (long i = 0; i < c->G.P; i++) e[i] = gt[i] - (gt[i] - e[i]) * (1.0f - a);
    }
}

typedef struct Job Job;
struct Job {
    Game *c;
    const float *real, *z_d, *z_g; /* an epoch's draws; a critic's: real, fake (z_d) */
    const int *steps;              /* the critics' steps and R1 weights, per member */
    const float *r1s;
    long most; /* the most steps of any critic: each one's draws are [most, B, dim] */
    void (*play)(Job *, int, Scratch *);
    int *next; /* the next member to play, shared: a thread that gets less of its core plays fewer */
    float *work;
};

static void play_epoch(Job *j, int k, Scratch *w) { member(j->c, j->real, j->z_d, j->z_g, k, w); }

static void *run(void *p) {
    Job *j = p;
    Scratch w = {0};
    carve(j->c, j->work, &w);
    for (int k; (k = __atomic_fetch_add(j->next, 1, __ATOMIC_RELAXED)) < j->c->K;) j->play(j, k, &w);
    return NULL;
}

/* job's play for every member, on c->threads threads, each with its own part of c->work, taking members
 * one at a time. A member's arithmetic is the same on any thread count. */
static void on_threads(Job job) {
    Game *c = job.c;
    int T = c->threads < 1 ? 1 : c->threads > c->K ? c->K : c->threads, next = 0;
    pthread_t th[MAXT];
    Job jobs[MAXT];
    int started[MAXT] = {0};
    T = T > MAXT ? MAXT : T;
    job.next = &next;
    for (int t = 0; t < T; t++) jobs[t] = job, jobs[t].work = c->work + t * kernel_work(c);
    for (int t = 1; t < T; t++) started[t] = pthread_create(&th[t], NULL, run, &jobs[t]) == 0;
    run(&jobs[0]);
    for (int t = 1; t < T; t++)
        if (started[t]) pthread_join(th[t], NULL); /* a thread that could not start: run() took its share */
}

/* One epoch for every member. */
void kernel_step(Game *c, const float *real, const float *z_d, const float *z_g) {
    on_threads((Job){.c = c, .real = real, .z_d = z_d, .z_g = z_g, .play = play_epoch});
    *c->D.steps += c->d_steps;
    *c->G.steps += c->g_steps;
}

/* n epochs in one call (compiled.py's steps: a block of draws [n, steps, K, B, dim], with each epoch's
 * learning-rate factor and G's average's weight, where not NULL) */
void kernel_steps(Game *c, const float *real, const float *z_d, const float *z_g, int n, const float *lr_scales,
                  const float *ema_weights) {
    const long sr = (long)c->d_steps * c->K * c->B * c->dim, sd = (long)c->d_steps * c->K * c->B * c->zdim;
    const long sg = (long)c->g_steps * c->K * c->B * c->zdim;
    for (int e = 0; e < n; e++) {
        if (lr_scales) c->G.lr_scale = c->D.lr_scale = lr_scales[e];
        if (ema_weights) c->ema_weight = ema_weights[e];
        kernel_step(c, real + e * sr, z_d + e * sd, z_g + e * sg);
    }
}

/* Critic k's whole training (sampler.py): steps[k] D steps on its draws, R1 weight r1s[k], Adam's rate
 * falling to 0 in a straight line (step e at 1 - e / steps[k]), its step count its own. */
static void play_critic(Job *j, int k, Scratch *w) {
    Game g = *j->c; /* this critic's own R1 weight and learning-rate factor */
    g.r1 = j->r1s[k];
    const long per = (long)g.B * g.dim;
    for (int e = 0; e < j->steps[k]; e++) {
        g.D.lr_scale = (float)(1.0 - (double)e / j->steps[k]);
        const long at = ((long)k * j->most + e) * per;
        d_step(&g, k, e, j->real + at, j->z_d + at, w);
    }
}

/* K per-sample critics trained apart in one call, on c->threads threads: critic k is member k of c's D
 * (c->m = 1: one logit per sample; c->r1 > 0, so that the scratch has R1's room; G is never played) and
 * learns real [K, most, B, dim] (label 1) against fake (label 0). *c->D.steps stays as it was. */
void kernel_critics(Game *c, const float *real, const float *fake, const int *steps, const float *r1s, int most) {
    on_threads((Job){.c = c, .real = real, .z_d = fake, .steps = steps, .r1s = r1s, .most = most, .play = play_critic});
}

/* rng.py's counter-based uniforms, bit for bit: lowbias32 in uint32 (rng.py does it in int64) */
static inline unsigned hash32(unsigned x) {
    x ^= x >> 16;
    x *= 0x7FEB352Du;
    x ^= x >> 15;
    x *= 0x846CA68Bu;
    return x ^ (x >> 16);
}

/* out [C, K, n]: member k's n uniforms of each epoch in epochs[C]; keys [K, 2] (int64 holding uint32) */
void kernel_uniform(const long *keys, const long *epochs, int C, int K, long n, float *out) {
    for (int e = 0; e < C; e++)
        for (int k = 0; k < K; k++) {
            const unsigned key = hash32((unsigned)epochs[e] ^ (unsigned)keys[2 * k]), k2 = (unsigned)keys[2 * k + 1];
            float *o = out + ((long)e * K + k) * n;
            for (long j = 0; j < n; j++) o[j] = (float)(hash32(hash32(key ^ (unsigned)j * 0x9E3779B9u) ^ k2) >> 8) * 0x1p-24f;
        }
}

/* An MLP's output for many rows (models.py's evaluate: the metric rows' samples), members k0..k1 - 1:
 * out[k] = the net of member k at x[k] (rows x sizes[0]). W[l], b[l]: member 0's layer l, the next
 * member ws[l] and bs[l] floats on. In chunks of rows that stay in cache; work: 2 x CH x the widest. */
enum { CH = 256 };
long kernel_forward_work(int layers, const int *sizes) {
    int w = 0;
    for (int l = 0; l <= layers; l++) w = sizes[l] > w ? sizes[l] : w;
    return 2L * CH * w;
}

void kernel_forward(int layers, const int *sizes, const int *acts, const float **W, const long *ws, const float **b,
                    const long *bs, const float *x, int K, long rows, float *out, float *work) {
    const long half = kernel_forward_work(layers, sizes) / 2;
    const int in0 = sizes[0], outL = sizes[layers];
    for (int k = 0; k < K; k++)
        for (long r0 = 0; r0 < rows; r0 += CH) {
            const int n = rows - r0 < CH ? (int)(rows - r0) : CH;
            const float *cur = x + ((long)k * rows + r0) * in0;
            for (int l = 0; l < layers; l++) {
                float *dst = l == layers - 1 ? out + ((long)k * rows + r0) * outL : work + (l % 2) * half;
                matmul(cur, n, sizes[l], sizes[l + 1], W[l] + k * ws[l], b[l] + k * bs[l], dst);
                if (l < layers - 1) act(acts[l], dst, (long)n * sizes[l + 1]);
                cur = dst;
            }
        }
}

/* What native.py checks before it trusts the library: the ABI, the structs' sizes, the source it was built
 * from, and the codes it uses for names (asked here, never copied by hand). */
int kernel_abi(void) { return KERNEL_ABI; }
const char *kernel_source(void) { return KERNEL_SOURCE; }
long kernel_sizeof(int which) { return which == 0 ? (long)sizeof(Game) : which == 1 ? (long)sizeof(Net) : -1; }

int kernel_code(const char *name) { /* an activation's or a loss's code, -1 if unknown */
    static const char *acts[] = {"elu", "sigmoid", "tanh", "relu", "leaky_relu"};
    static const char *losses[] = {"bce", "minimax", "lsgan", "hinge", "wgan"};
    for (int i = 0; i < 5; i++)
        if (!strcmp(name, acts[i])) return i;
    for (int i = 0; i < 5; i++)
        if (!strcmp(name, losses[i])) return i;
    return -1;
}

/* The instruction sets this CPU and its OS run, as x86-64 levels: 4 (AVX-512 F/VL/BW/DQ with AVX2 and
 * FMA), 3 (AVX2 and FMA), else 1; 0 off x86. The generic variant answers it, so asking cannot fault. */
int kernel_cpu_level(void) {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    __builtin_cpu_init();
    const int v3 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    const int v4 = v3 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
                   __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq");
    return v4 ? 4 : v3 ? 3 : 1;
#else
    return 0;
#endif
}

/* The fast engine's epoch for the seed's game (minibatch view), compiled: FastEngine.step's math with
 * no per-op dispatch. At K = 1 the torch step is ~60 kernels of a few microseconds each, bound by
 * dispatch; here one call plays one epoch for every member. compiled.py builds this file with the
 * system's C compiler on first use and checks it against the torch step (tests/game/test_compiled.py).
 *
 * Layouts are FlatNet's: per member, theta = [W0 (in x out, row-major), b0, W1, b1, ...]; inputs are
 * the draws' [steps, K, B, dim]. Row convention: y = x W + b. */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

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
} Net;

typedef struct {
    int K, B, dim, zdim, diffs, d_steps, g_steps, loss, threads;
    Net G, D;
    float *logits_d, *logits_g, *fakes; /* out: [K, 2], [K], [K, (d_steps + 1) B, dim] */
    float *work;                        /* scratch: threads x kernel_work floats (compiled.py) */
} Game;

/* y = act(y) over n values, one loop per activation so that each vectorises (expf: libmvec) */
static void act(int a, float *y, int n) {
    switch (a) {
    case ELU:
        for (int i = 0; i < n; i++) y[i] = y[i] > 0 ? y[i] : expf(y[i]) - 1.0f;
        break;
    case SIGMOID:
        for (int i = 0; i < n; i++) y[i] = 1.0f / (1.0f + expf(-y[i]));
        break;
    case TANH:
        for (int i = 0; i < n; i++) y[i] = 1.0f - 2.0f / (expf(2.0f * y[i]) + 1.0f);
        break;
    case RELU:
        for (int i = 0; i < n; i++) y[i] = y[i] > 0 ? y[i] : 0.0f;
        break;
    default:
        for (int i = 0; i < n; i++) y[i] = y[i] > 0 ? y[i] : 0.2f * y[i];
    }
}

static float act_grad(int a, float y) { /* d act / d x, from the output y */
    switch (a) {
    case ELU: return y > 0 ? 1.0f : y + 1.0f;
    case SIGMOID: return y * (1.0f - y);
    case TANH: return 1.0f - y * y;
    case RELU: return y > 0 ? 1.0f : 0.0f;
    default: return y > 0 ? 1.0f : 0.2f;
    }
}

static float sigm(float t) { return 1.0f / (1.0f + expf(-t)); }

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

typedef float v8 __attribute__((vector_size(32), aligned(4))); /* 8 floats, unaligned loads allowed */
#define LD(p) (*(const v8 *)(p))
#define ST(p, v) (*(v8 *)(p) = (v))

/* y = x W (+ b): x rows x in, W in x out, row-major. Register blocks of 4 rows x 8 outputs; the last
 * block of a row overlaps the one before it (out >= 8), which writes the same values twice. */
static void matmul(const float *restrict x, int rows, int in, int out, const float *restrict W,
                   const float *restrict b, float *restrict y) {
    if (out < 8) {
        for (int r = 0; r < rows; r++)
            for (int o = 0; o < out; o++) {
                float s = b ? b[o] : 0.0f;
                for (int i = 0; i < in; i++) s += x[(long)r * in + i] * W[(long)i * out + o];
                y[(long)r * out + o] = s;
            }
        return;
    }
    const v8 zero = {0};
    int r = 0;
    for (; r + 4 <= rows; r += 4) {
        const float *x0 = x + (long)r * in, *x1 = x0 + in, *x2 = x1 + in, *x3 = x2 + in;
        for (int o = 0; o < out; o += 8) {
            int c = o + 8 <= out ? o : out - 8;
            v8 a0 = b ? LD(b + c) : zero, a1 = a0, a2 = a0, a3 = a0;
            for (int i = 0; i < in; i++) {
                v8 w = LD(W + (long)i * out + c);
                a0 += x0[i] * w, a1 += x1[i] * w, a2 += x2[i] * w, a3 += x3[i] * w;
            }
            float *yr = y + (long)r * out + c;
            ST(yr, a0), ST(yr + out, a1), ST(yr + 2 * out, a2), ST(yr + 3 * out, a3);
        }
    }
    for (; r < rows; r++)
        for (int o = 0; o < out; o += 8) {
            int c = o + 8 <= out ? o : out - 8;
            v8 a0 = b ? LD(b + c) : zero;
            for (int i = 0; i < in; i++) a0 += x[(long)r * in + i] * LD(W + (long)i * out + c);
            ST(y + (long)r * out + c, a0);
        }
}

/* dW = x^T g (written over), db = column sums of g (if db): x rows x in, g rows x out */
static void matmul_tn(const float *restrict x, int rows, int in, int out, const float *restrict g,
                      float *restrict dW, float *restrict db) {
    if (db) {
        for (int o = 0; o < out; o++) db[o] = 0.0f;
        for (int r = 0; r < rows; r++)
            for (int o = 0; o < out; o++) db[o] += g[(long)r * out + o];
    }
    if (out < 8) {
        for (int i = 0; i < in; i++)
            for (int o = 0; o < out; o++) {
                float s = 0.0f;
                for (int r = 0; r < rows; r++) s += x[(long)r * in + i] * g[(long)r * out + o];
                dW[(long)i * out + o] = s;
            }
        return;
    }
    const v8 zero = {0};
    int i = 0;
    for (; i + 4 <= in; i += 4)
        for (int o = 0; o < out; o += 8) {
            int c = o + 8 <= out ? o : out - 8;
            v8 a0 = zero, a1 = zero, a2 = zero, a3 = zero;
            for (int r = 0; r < rows; r++) {
                v8 gv = LD(g + (long)r * out + c);
                const float *xr = x + (long)r * in + i;
                a0 += xr[0] * gv, a1 += xr[1] * gv, a2 += xr[2] * gv, a3 += xr[3] * gv;
            }
            float *d = dW + (long)i * out + c;
            ST(d, a0), ST(d + out, a1), ST(d + 2 * out, a2), ST(d + 3 * out, a3);
        }
    for (; i < in; i++)
        for (int o = 0; o < out; o += 8) {
            int c = o + 8 <= out ? o : out - 8;
            v8 a0 = zero;
            for (int r = 0; r < rows; r++) a0 += x[(long)r * in + i] * LD(g + (long)r * out + c);
            ST(dW + (long)i * out + c, a0);
        }
}

/* y[r, :] = act(x[r, :] W + b) for r < rows (act < 0: none) */
static void dense(const float *x, int rows, int in, int out, const float *W, const float *b, int a, float *y) {
    matmul(x, rows, in, out, W, b, y);
    if (a >= 0) act(a, y, rows * out);
}

/* Forward over rows: h[0] = x, h[l + 1] = layer l's output; each h[l] is rows x sizes[l]. */
static void forward(const Net *n, const float *theta, const float *x, int rows, float **h) {
    const float *p = theta;
    h[0] = (float *)x;
    for (int l = 0; l < n->layers; l++) {
        int in = n->sizes[l], out = n->sizes[l + 1];
        dense(h[l], rows, in, out, p, p + (long)in * out, l < n->layers - 1 ? n->acts[l] : -1, h[l + 1]);
        p += (long)in * out + out;
    }
}

/* Backward from g = dL/d output (rows x out): grads into grad (if grad), dL/d input into gx (if gx).
 * tmp: 2 x rows x (the widest layer input) for the gradients between layers, then room for a W^T. */
static void backward(const Net *n, const float *theta, float **h, int rows, const float *g, float *grad, float *gx,
                     float *tmp) {
    long offs[MAXL], at = 0;
    int wmax = 0;
    for (int l = 0; l < n->layers; l++) {
        offs[l] = at;
        at += (long)n->sizes[l] * n->sizes[l + 1] + n->sizes[l + 1];
        wmax = n->sizes[l] > wmax ? n->sizes[l] : wmax;
    }
    const float *cur = g;
    float *next = tmp;
    for (int l = n->layers - 1; l >= 0; l--) {
        int in = n->sizes[l], out = n->sizes[l + 1];
        const float *W = theta + offs[l];
        if (grad) {
            float *dW = grad + offs[l];
            matmul_tn(h[l], rows, in, out, cur, dW, dW + (long)in * out);
        }
        if (l == 0 && !gx) break;
        float *dst = l == 0 ? gx : next, *Wt = tmp + 2L * rows * wmax; /* W^T, out x in */
        for (int i = 0; i < in; i++)
            for (int o = 0; o < out; o++) Wt[(long)o * in + i] = W[(long)i * out + o];
        matmul(cur, rows, out, in, Wt, NULL, dst);
        if (l > 0) {
            const float *y = h[l];
            const int a = n->acts[l - 1];
            for (long j = 0; j < (long)rows * in; j++) dst[j] *= act_grad(a, y[j]);
        }
        cur = dst;
        next = next == tmp ? tmp + (long)rows * wmax : tmp;
    }
}

/* torch's Adam (no weight decay), per member k, after steps was incremented */
static void adam(Net *n, int k, float step) {
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

static long width(const Game *c) { /* the widest layer input or output of G or D */
    int w = 0;
    for (int l = 0; l <= c->G.layers; l++) w = c->G.sizes[l] > w ? c->G.sizes[l] : w;
    for (int l = 0; l <= c->D.layers; l++) w = c->D.sizes[l] > w ? c->D.sizes[l] : w;
    return w;
}

long kernel_work(const Game *c) { /* floats of scratch one thread needs */
    long w = width(c);
    long rows = (long)(c->d_steps + 1) * c->B;
    long n = (long)c->G.layers * rows * w + (c->D.layers + 1) * 2L * w + 4 * rows * w + (long)w * w + 3L * c->B * c->dim;
    /* a multiple of 64 bytes: every thread's scratch is aligned alike, and vectorised loops, whose
     * rounding can depend on alignment, give a member the same bits on whichever thread plays it */
    return (n + 15) & ~15L;
}

/* One epoch for members k0..k1 - 1, with its own scratch work. Members share nothing but the step
 * counts, read here and incremented by kernel_step after every member is done. */
static void members(Game *c, const float *real, const float *z_d, const float *z_g, int k0, int k1, float *work) {
    int K = c->K, B = c->B, dim = c->dim, zd = c->zdim, F = c->D.sizes[0];
    long rows = (long)(c->d_steps + 1) * B, w = width(c);
    float *hg[MAXL + 1], *hd[MAXL + 1], *at = work;
    for (int l = 1; l <= c->G.layers; l++) hg[l] = at, at += rows * w;
    for (int l = 0; l <= c->D.layers; l++) hd[l] = at, at += 2L * w;
    float *z = at; at += rows * w;
    float *g = at; at += rows * w; /* D's output gradients, then (from g + w) dL/d D's input */
    float *tmp = at; at += 2 * rows * w + (long)w * w;
    float *centred = at; at += 2L * B * dim;
    float *gfake = at;
    float *sub[MAXL + 1];
    for (int k = k0; k < k1; k++) {
        float *gt = c->G.theta + k * c->G.P, *dt = c->D.theta + k * c->D.P;
        for (int s = 0; s < c->d_steps; s++)
            memcpy(z + (long)s * B * zd, z_d + ((long)s * K + k) * B * zd, sizeof(float) * B * zd);
        memcpy(z + (long)c->d_steps * B * zd, z_g + (long)k * B * zd, sizeof(float) * B * zd);
        forward(&c->G, gt, z, (int)rows, hg);
        float *fk = hg[c->G.layers];
        memcpy(c->fakes + (long)k * rows * dim, fk, sizeof(float) * rows * dim);
        for (int s = 0; s < c->d_steps; s++) { /* D: real labelled 1, G's samples 0 */
            view(c, real + ((long)s * K + k) * B * dim, hd[0], centred);
            view(c, fk + (long)s * B * dim, hd[0] + F, centred);
            forward(&c->D, dt, hd[0], 2, hd);
            float *t = hd[c->D.layers];
            g[0] = loss_grad(c->loss, 0, t[0]);
            g[1] = loss_grad(c->loss, 1, t[1]);
            c->logits_d[2 * k] = t[0], c->logits_d[2 * k + 1] = t[1];
            backward(&c->D, dt, hd, 2, g, c->D.grad + k * c->D.P, NULL, tmp);
            adam(&c->D, k, *c->D.steps + s + 1);
        }
        for (int s = 0; s < c->g_steps; s++) { /* G: make D say 1, D's weights untouched */
            float **h = hg, *fake = fk + (long)c->d_steps * B * dim;
            if (s > 0) {
                memcpy(z, z_g + ((long)s * K + k) * B * zd, sizeof(float) * B * zd);
                forward(&c->G, gt, z, B, hg);
                fake = hg[c->G.layers];
            } else { /* G's rows of the joint forward */
                sub[0] = z + (long)c->d_steps * B * zd;
                for (int l = 1; l <= c->G.layers; l++) sub[l] = hg[l] + (long)c->d_steps * B * c->G.sizes[l];
                h = sub;
            }
            view(c, fake, hd[0], centred);
            forward(&c->D, dt, hd[0], 1, hd);
            float t = hd[c->D.layers][0];
            c->logits_g[k] = t;
            g[0] = loss_grad(c->loss, 2, t);
            float *gx = g + w; /* D's outputs' gradients use g's first values only */
            backward(&c->D, dt, hd, 1, g, NULL, gx, tmp);
            for (int i = 0; i < B * dim; i++)
                gfake[i] = c->diffs ? gx[i] + 2.0f * centred[i] * gx[B * dim + i] : gx[i];
            backward(&c->G, gt, h, B, gfake, c->G.grad + k * c->G.P, NULL, tmp);
            adam(&c->G, k, *c->G.steps + s + 1);
        }
    }
}

typedef struct {
    Game *c;
    const float *real, *z_d, *z_g;
    int *next; /* the next member to play, shared: a thread that gets less of its core plays fewer */
    float *work;
} Job;

static void *run(void *p) {
    Job *j = p;
    for (int k; (k = __atomic_fetch_add(j->next, 1, __ATOMIC_RELAXED)) < j->c->K;)
        members(j->c, j->real, j->z_d, j->z_g, k, k + 1, j->work);
    return NULL;
}

/* One epoch for every member, on c->threads threads, each with its own part of c->work, taking
 * members one at a time. A member's arithmetic is the same on any thread count. */
void kernel_step(Game *c, const float *real, const float *z_d, const float *z_g) {
    int T = c->threads < 1 ? 1 : c->threads > c->K ? c->K : c->threads, next = 0;
    pthread_t th[MAXT];
    Job jobs[MAXT];
    int started[MAXT] = {0};
    T = T > MAXT ? MAXT : T;
    for (int t = 0; t < T; t++) jobs[t] = (Job){c, real, z_d, z_g, &next, c->work + t * kernel_work(c)};
    for (int t = 1; t < T; t++) started[t] = pthread_create(&th[t], NULL, run, &jobs[t]) == 0;
    run(&jobs[0]);
    for (int t = 1; t < T; t++)
        if (started[t]) pthread_join(th[t], NULL); /* a thread that could not start: run() took its share */
    *c->D.steps += c->d_steps;
    *c->G.steps += c->g_steps;
}

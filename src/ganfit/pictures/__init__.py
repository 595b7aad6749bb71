"""Pictures of a run: what is captured while it trains (capture, hook), the panels drawn from that
(panels), the files a run gets (figures: the one list of them), the animation and the process that draws
it (animate, painter), TensorBoard's event files, and the HTML report.

No re-exports here: the painter's child process imports this package first, and needs none of it.
"""

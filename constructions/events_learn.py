"""Algorithm 1 and the learner machine on the event-driven executor (``--engine events``).

:func:`events_rcnn` is :meth:`constructions.learner.CompiledLearner.rcnn` with the recurrent
convolution run by :class:`constructions.events.EventsRCNN`: the same weights, the same
``L = 1 + t(m, d)``, and ``W`` trained by the same literal Algorithm 1
(:func:`constructions.memorisation.algorithm1`: ``loss.backward()``, ``torch.optim.SGD`` on
``W``). Layer 1 runs through the dense torch code on the whole grid; layers ``2..L`` run
event by event, forward and backward. Exactness rests on ``CompiledLearner.bits`` (layers
``2..L``, values and Jacobians, any summation order) and on layer 1 being the dense code.

During memorisation every layer after the first is a fixed point (docs/algorithm1.md), so a
forward pass evaluates the whole grid twice and then nothing, and the backward pass computes
the carrier row's gradient once and then finds the same inputs at every layer below. A test
point's forward pass evaluates the patch network near the machine's head only.
"""

from __future__ import annotations

import torch

from constructions.events import EventsRCNN
from constructions.learner import PAD, CompiledLearner, LearnerError

MAX_MULTIPLY_ADDS = 2 * 10**12
"""Refuse learning runs whose estimated work exceeds this, before allocating anything."""


def events_rcnn(learner: CompiledLearner, m: int, d: int, dtype: torch.dtype = torch.float32,
                layers: int | None = None, steps: int | None = None,
                backend: str = "auto") -> EventsRCNN:
    """Definition 5's RCNN for ``m`` examples and ``d`` features with ``learner``'s weights,
    ``W = 0``, run by the event-driven executor (no depth cap: the work budget decides)."""
    L = learner.layers(m, d, steps) if layers is None else layers
    if L < 1:
        raise LearnerError("the learner network needs at least the conversion layer")
    return EventsRCNN(learner.patch, learner.head, layers=L, padding=float(PAD), d_in=d + 1,
                      d_mem=m + 1, l=learner.l, dtype=dtype, proven_bits=learner.bits,
                      backend=backend)


def estimated_work(learner: CompiledLearner, m: int, d: int, n_tests: int,
                   layers: int) -> tuple[int, int]:
    """(patch evaluations, multiply-adds): an upper bound for Algorithm 1 on ``m`` examples
    and ``n_tests`` test points. Each SGD step evaluates the grid at layers 1 and 2 (then
    nothing: a fixed point) and each test point does too, then at most two changed cells per
    layer make at most ``2 x 5`` cells dirty."""
    from constructions.events_net import EventNet

    cells = (m + 1) * (d + 1 + learner.l)
    evals = (m + 1) * 3 * cells + n_tests * (2 * cells + 10 * max(0, layers - 2))
    net = EventNet.from_model(events_rcnn(learner, 0, 1, layers=1))
    return evals, evals * net.multiply_adds


def check_work(learner: CompiledLearner, m: int, d: int, n_tests: int, layers: int) -> None:
    """Raise :class:`LearnerError` if the estimated work exceeds the budget."""
    evals, work = estimated_work(learner, m, d, n_tests, layers)
    if work > MAX_MULTIPLY_ADDS:
        raise LearnerError(f"this run may need up to {evals:,} patch evaluations ({work:.2e} "
                           f"multiply-adds; L = {layers:,}, {m + 1} SGD steps, {n_tests} test "
                           f"points); the events engine's limit is {MAX_MULTIPLY_ADDS:.0e}")

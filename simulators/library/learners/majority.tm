# majority.tm -- the majority label of the training set (simulators.learners "majority").
#
# Tape: the learner tape of simulators/learner_tape.py (docs/learner_tape.md): m + 1 rows,
# d feature columns, the label column d, l >= 1 work columns (never visited). Rows 0..m-1
# are training examples, row m is the test row; the head starts on the test row's label
# cell `P` (`P^` when m = 0). Only the label column is used.
#
# Algorithm (cancellation): mark the test label cell `T` (the bottom marker). Then repeat:
# climb the label column for an unmarked `P` and mark it (`Px`), return to `T`; climb for
# an unmarked `N` and mark it (`Nx`), return to `T`. If a climb for `P` reaches the top
# without one, the answer is -1 if an unmarked `N` is left, else +1 (a tie); if a climb for
# `N` finds none, the `P` just marked has no partner and the answer is +1. The answer is
# written over `T` (the start cell); every other cell keeps its symbol or a marked copy.
# Tie rule: equal counts (and m = 0) give +1.
#
# Time bound: t(m, d) = (m + 1)(m + 2) steps. A trip that marks row r costs 2(m - r)
# steps (climb, mark, descend, turn at T), each row is marked at most once (sum
# <= m(m + 1)), plus 1 step to write T and at most 2m + 1 for the final climb and descent.
# Attained when the label counts differ by at most 1 (every row gets marked). m = 0: 1 step.
name majority
symbols o p n p< n< P N P^ N^ A+ A- T Px Nx Px^ Nx^

macro answer(label):                 # descend the label column to T and write $label there
    state $self:
        on T: write $label, halt
        on *: move D
end

macro back_to_T(next):              # descend to T, then step up and continue with $next
    state $self:
        on T: move U, goto $next
        on *: move D
end

state start:                         # on the test row's label cell
    on P^: write A+, halt            # m = 0: no examples, +1
    on P: write T, move U, goto findP
    on *: stop

state findP:                         # climb for an unmarked P
    on P: write Px, move D, goto downN
    on P^: write Px^, move D, goto downN
    on N Px Nx: move U
    on N^ Px^ Nx^: goto noP          # top reached: no unmarked P left
    on *: stop

state findN:                         # climb for an unmarked N (a P was just marked)
    on N: write Nx, move D, goto downP
    on N^: write Nx^, move D, goto downP
    on P Px Nx: move U
    on P^ Px^ Nx^: goto plus         # no N left: the marked P has no partner
    on *: stop

state noP:                           # no unmarked P: descend looking for an unmarked N
    on N N^: goto minus
    on T: write A+, halt             # none either: a tie
    on *: move D

use back_to_T(findN) as downN
use back_to_T(findP) as downP
use answer(A+) as plus
use answer(A-) as minus

# first_agree.tm -- the label of the first training example (row order 0..m-1) whose
# first coordinate x^a_0 equals the test point's x_0; if none does, the majority label
# (simulators.learners "first_agree").
#
# Tape: the learner tape of simulators/learner_tape.py (docs/learner_tape.md): m + 1 rows,
# d feature columns, the label column d, l >= 1 work columns (never visited). The head
# starts on the test row's label cell `P` (`P^` when m = 0). Columns 0..d and rows 0..m
# are used.
#
# Algorithm: mark the start cell `T` (bottom marker), climb the label column to row 0, then
# for each row top-down: remember the label in the state, walk left to column 0 and back.
# Row a agrees with the test point on coordinate 0 iff c_a0 = y^a x^a_0 x_0 has the sign
# of y^a, i.e. the row reads (`p<`, `P`) or (`n<`, `N`). The first agreeing row's label is
# carried down to `T` and written there. If the walk down reaches `T`, no row agrees and
# the majority code of majority.tm (copied below, states findP ... minus) runs from `T`.
# Tie rules: the first agreeing example in training order; no agreement -> majority,
# equal counts -> +1; m = 0 -> +1. The tape is not changed except for T, the answer and
# the majority marks.
#
# Time bound: t(m, d) = 2m(d + 1) + (m + 1)(m + 2) steps: 1 step to write T, m - 1 to
# climb, 2d + 1 per scanned row (a step into the row, d - 1 left, 1 turn, d - 1 right, a
# step out), then either the descent to T (at most m - r steps after row r) or the
# majority fallback, whose cost from T is at most (m + 1)(m + 2) (see majority.tm; its
# first step replaces the step out of the last row). m = 0: 1 step.
name first_agree
symbols o p n p< n< P N P^ N^ A+ A- T Px Nx Px^ Nx^

set labels = P N P^ N^
set cells = p n

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

macro walk_right(next):             # walk right to the label column, then go down to $next
    state $self:
        on cells: move R
        on labels: move D, goto $next
        on *: stop
end

state start:                         # on the test row's label cell
    on P^: write A+, halt            # m = 0: no examples, +1
    on P: write T, move U, goto climb
    on *: stop

state climb:                         # climb the label column to row 0
    on P N: move U
    on P^: move L, goto leftP
    on N^: move L, goto leftN
    on *: stop

state row:                           # on the label cell of the next row
    on P: move L, goto leftP
    on N: move L, goto leftN
    on T: move U, goto findP         # no row agrees: majority
    on *: stop

state leftP:                         # label +1: walk to column 0
    on cells: move L
    on p<: move R, goto yesP         # x^a_0 = x_0
    on n<: move R, goto next
    on *: stop

state leftN:                         # label -1: walk to column 0
    on cells: move L
    on n<: move R, goto yesN         # x^a_0 = x_0
    on p<: move R, goto next
    on *: stop

use walk_right(row) as next
use walk_right(plus) as yesP
use walk_right(minus) as yesN

# ---- majority fallback (as in majority.tm)
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

# nearest.tm -- 1-nearest neighbour in Hamming distance, ties to the earliest training
# example (simulators.learners "nearest").
#
# Tape: the learner tape of simulators/learner_tape.py (docs/learner_tape.md): m + 1 rows,
# d feature columns, the label column d, l >= 1 work columns (never visited). The head
# starts on the test row's label cell `P` (`P^` when m = 0).
#
# Distance: x^a_b differs from x_b iff c_ab = y^a x^a_b x_b has the sign opposite to y^a,
# i.e. the cell is `n`/`n<` in a `P` row and `p`/`p<` in an `N` row (a "disagreement").
#
# Algorithm (rounds of erasure): mark the start cell `T` (bottom marker). In each round,
# climb the label column to row 0 and visit the rows top-down; in each row walk left from
# the label to the first disagreement and flip it into an agreement (`n` <-> `p`), then
# walk back and go to the next row. A row with no disagreement left is reached at column
# 0: its label is carried down to `T` and written there. In round k every row still in
# play has lost exactly k disagreements, so the first row found clean has distance k = the
# minimum distance, and every earlier row has a larger distance: it is the earliest nearest
# example. Tie rules: ties -> earliest; m = 0 -> +1. The feature cells of training rows are
# overwritten (flipped disagreements); the label column keeps its symbols except T/answer.
#
# Time bound: t(m, d) = m(d + 1)(d + 2) + 2d + 1 steps for m >= 1 (1 for m = 0), attained
# when every example is -x. Let k be the minimum distance and r the answer row: there are
# k + 1 rounds, each costing m for the turn at T (or writing T) and the climb. Visiting a
# row whose flip is at column b costs 2(d - b) + 1; a row's j-th flip (from 0) among K is
# at a column >= K - 1 - j, so its K flips cost at most K(2d + 2 - K). Rows before r are
# flipped k + 1 times, rows after r and r itself k times, and r's last visit costs
# 2d + 1 + (m - r) (the scan, the descent and the write). The total grows with k and,
# for k < d, with r; k = d forces r = 0 (an earlier row would need distance d + 1), and
# (k, r) = (d, 0) gives the bound, which beats (d - 1, m - 1) by 2m + 2.
name nearest
symbols o p n p< n< P N P^ N^ A+ A- T

set labels = P N P^ N^
set cells = p n

macro answer(label):                 # descend the label column to T and write $label there
    state $self:
        on T: write $label, halt
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

state row:                           # on the label cell of the next row, or on T
    on P: move L, goto leftP
    on N: move L, goto leftN
    on T: move U, goto climb         # end of a round
    on *: stop

state leftP:                         # label +1: find the first disagreement (n) leftwards
    on p: move L
    on n: write p, move R, goto next
    on n<: write p<, move R, goto next
    on p<: move R, goto cleanP       # no disagreement left: the nearest example
    on *: stop

state leftN:                         # label -1: find the first disagreement (p) leftwards
    on n: move L
    on p: write n, move R, goto next
    on p<: write n<, move R, goto next
    on n<: move R, goto cleanN
    on *: stop

use walk_right(row) as next
use walk_right(plus) as cleanP
use walk_right(minus) as cleanN
use answer(A+) as plus
use answer(A-) as minus

# snake.tm -- visit every cell of a framed +/- grid in snake order, then halt.
#
# Grid: R >= 1 data rows of W >= 1 cells holding + or -, each framed by the border symbol |,
# and below them one row of W + 2 border cells; the grid is (R + 1) x (W + 2). Example
# with R = 2, W = 3:
#     |+-+|
#     |--+|
#     |||||
# Start: head on the first data cell (0, 1), state `rightward`.
#
# The walker sweeps row 0 left to right, steps down (D) through the right border, sweeps
# row 1 right to left, steps down through the left border, and so on. It counts nothing; it
# only marks each visited cell (+ becomes p, - becomes m). Reaching the border row below
# the last data row it halts (S). Moves used: L R D S.
#
# Halts after exactly R * (W + 2) + 1 steps with the head on the bottom border row, at
# column W if R is odd and column 1 if R is even.
symbols _ + - | p m

macro sweep(dir, back, then):     # sweep a row in direction $dir, then turn to $then
    state $self:                    # walking along a row, marking cells
        on +: write p, move $dir
        on -: write m, move $dir
        on |: move D, goto turn
    state turn:                     # one row down, in the border column
        on |: move $back, goto enter
    state enter:                    # the first cell of the next row, or the bottom border
        on +: write p, move $back, goto $then
        on -: write m, move $back, goto $then
        on |: halt
end

use sweep(R, L, leftward) as rightward
use sweep(L, R, rightward) as leftward

# copy_up.tm -- copy the bottom row's symbols one cell upward ("column copy").
#
# Grid: H >= 2 rows and W + 1 columns, W >= 0. The bottom row holds W data symbols (+ or -)
# followed by the end marker |; the rows above may hold anything (_ + - |).
# Start: head on the bottom row's first cell (H - 1, 0), state `read`.
#
# For each data cell the machine moves U, overwrites the cell above with a copy of the
# symbol, moves D back and moves R to the next cell; on the end marker it halts (S). Only
# row H - 2 changes: its first W cells become a copy of the data, the cell above the
# marker is left alone. Moves used: U D R S.
#
# Halts after exactly 3 * W + 1 steps with the head on the end marker (H - 1, W).
symbols _ + - |
set data = + -

macro carry(sym, next):           # one cell above a $sym: write a copy there, go back down
    state $self:
        on *: write $sym, move D, goto $next
end

state read:
    on +: move U, goto carry_plus
    on -: move U, goto carry_minus
    on |: halt
use carry(+, step) as carry_plus
use carry(-, step) as carry_minus
state step:
    on data: move R, goto read

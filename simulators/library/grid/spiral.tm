# spiral.tm -- draw a square spiral outward from the start cell, then halt.
#
# Grid: blank (all _), at least 5x5; the head starts in state `start` at least 2 cells
# away from every edge, e.g. at the centre (2, 2) of a 5x5 grid.
#
# The spiral is drawn with marks o: the start cell, then arms going right, up, left, down
# of lengths 1, 1, 2, 2, 3, 3, 4, 4, and one more cell to the right. That is 22 marked
# cells: the 5x5 square centred on the start, except the 3 rightmost cells of its bottom
# row. Walking direction d, the walker peeks at the cell to the left of d: if it is blank
# it turns into it, otherwise it steps back and goes on straight. Moves: all of L R U D S.
#
# Halts after exactly 55 steps (the last transition stays (S) and halts), the head on the
# last marked cell: 2 rows below and 1 column left of the start.
symbols _ o

macro arm(dir, left, back, next):   # walk $dir while the cell on the $left is marked
    state $self:                      # on a freshly marked cell: look to the left
        on o: move $left, goto peek
    state peek:
        on _: write o, goto $next     # free: the first cell of the next arm (stay: S)
        on o: move $back, goto fwd    # taken: step back, go on straight
    state fwd:
        on o: move $dir, goto mark
    state mark:
        on _: write o, move $left, goto peek
end

macro lap(next):                    # four arms, turning left each time
    use arm(R, U, D, up) as $self
    use arm(U, L, R, left) as up
    use arm(L, D, U, down) as left
    use arm(D, R, L, $next) as down
end

state start:
    on _: write o, move R, goto first
state first:
    on _: write o, goto lap1
use lap(lap2) as lap1                # arms of lengths 1, 1, 2, 2
use lap(done) as lap2                # arms of lengths 3, 3, 4, 4
state done:
    on o: halt

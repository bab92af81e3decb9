# lookup.tm -- a toy learning algorithm: predict the label of the nearest training example
# above the test point that has the test point's feature.
#
# Grid: H >= 2 rows, 2 columns. Rows 0 .. H-2 are training examples "feature label" with a
# feature in {0, 1} and a label in {+, -}; the bottom row is the test point "feature ?".
# At least one example must share the test point's feature (else the head leaves the grid
# at the top). Start: head on the test feature (H - 1, 0), state `start`.
#
# The machine remembers the test feature in its state, climbs (U) the feature column to the
# nearest row with that feature, steps R onto its label, remembers the label in its state,
# walks back down (D) to the `?` and overwrites it with the label (S, halt).
#
# Halts after exactly 2 * d + 4 steps, where d >= 1 is how many rows the matching example
# lies above the test point, with the head on the answer (H - 1, 1).
symbols _ 0 1 + - ?

macro seek(dir, target, next):      # move $dir until reading $target, then go to $next
    state $self:
        on $target: goto $next
        on *: move $dir
end

macro find(bit):                    # climb to the nearest row whose feature is $bit
    use seek(U, $bit, step) as $self
    state step:                     # on the matching feature: look at its label
        on $bit: move R, goto read
    state read:
        on +: move D, goto plus     # `plus` and `minus` are top-level states
        on -: move D, goto minus
end

macro answer(label):                # carry $label down to the `?` and write it there
    use seek(D, ?, put) as $self
    state put:
        on ?: write $label, halt
end

state start:                        # on the test point's feature
    on 0: move U, goto find0
    on 1: move U, goto find1
use find(0) as find0
use find(1) as find1
use answer(+) as plus
use answer(-) as minus

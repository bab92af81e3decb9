# parity.tm -- Gaussian elimination over GF(2) (simulators.learners "parity", i.e.
# gf2.solve_greedy): examples are taken in order, an example contradicting the ones kept
# before it is dropped, free variables are 0; the prediction is prod_{i in S} x_i.
#
# Tape: the learner tape of simulators/learner_tape.py (docs/learner_tape.md), l >= 1 work
# columns; the machine writes and reads only cell (m, d + 1), the bottom mark B. Bits: a
# cell p / p< / P is 0, n / n< / N is 1 (x = -1 and y = -1 are bit 1), so a training cell
# holds c = v ^ u^a_b ^ u_b (v: the label bit, u^a: the example, u: the test point) and the
# test row holds u. Marks: U T T- T^ are labels of the test row (U while it climbs in
# phase 1; T / T- its right-hand side 0 / 1 in phases 2-3; T^ on row 0), B the bottom.
#
# Every row operation is a *swap pass* on two adjacent rows r, r + 1, column by column
# from some column to the label column (3 steps a column): new row r = row r+1 XOR f*row r,
# new row r + 1 = row r, with f in {0, 1} held in the state. Rows move only by these swaps.
#
# Phase 1: the test row climbs to row 0 by plain swaps (f = 0); examples 0..m-1 now sit in
#   rows 1..m, in order.
# Phase 2, for each example a (the test row is always just below the finished rows):
#   fetch: go down the label column to T; if B is beside it, go to phase 3. Else flip the
#   example below (row a + 1) if its label is N (c -> u^a ^ u_b), then swap it with the
#   test row with f = 1 (-> u^a, label unchanged): the example is now the *current row*.
#   bubble: compare the current row with the row above, columns left to right (a two-step
#   staircase): the first column p holding a 1 in either row decides. Upper 1: swap, with
#   f = the current bit at p (XOR the upper row in when both hold 1), and repeat one row
#   higher. Current 1 only: the current row is a new pivot row (pivot p) and stays. No 1:
#   the current row is zero (a redundant or, with rhs 1, a dropped example) and stays.
#   Invariant: above the test row lie the zero rows, then the pivot rows, each holding 0s
#   left of its leading 1, leading 1s strictly increasing upwards. So the current row meets
#   the pivot rows in increasing pivot order and is reduced exactly as in solve_greedy
#   (XOR the row of pivot p iff the bit at p is 1); it stops below the first pivot row with
#   a larger pivot (a new basis row: the order is kept) or, once zero, below the zero rows.
# Phase 3: the test row (now at row m) climbs the same way, but the decision is the upper
#   row's first 1 at p with f = the test bit at p (its other 1s are at free columns, their
#   variables are 0, and they are not carried along). At a zero row or at row 0 the test
#   row's right-hand side is s . u over GF(2) for the free-zero solution s of the kept
#   examples, i.e. the reference prediction: A+ for 0, A- for 1, written on its label cell.
# Why: the test row becomes u ^ sum_k c_k R_k (R_k the pivot rows), zero on every pivot
# column; s is zero off the pivot columns and R_k . s = rhs_k, so s . u = sum_k c_k rhs_k,
# the right-hand side the test row has accumulated.
# m = 0: the start cell reads P^ and the machine writes A+ (the reference returns +1).
#
# Time bound (m >= 1; w(p) = 4d + 3 - p - (p mod 2), F(k) = w(0) + ... + w(k - 1)):
#   start 2; phase 1: a walk of d + 1, then m passes of 3(d + 1) with walks of d between:
#   m(4d + 3) + 1.
#   phase 2, example a: fetch d + 1 (+1 for a >= 1), crossing 3(d + 1), return 2 (home
#   turns right, check turns left), plus the bubbling. A pass over the pivot row of pivot p
#   costs w(p): walk d - 1, 2p staircase, 4 - (p mod 2) at column p, 3(d - p) swapping. The
#   current row passes k <= min(a, d) pivot rows with distinct pivots, so at most F(k).
#   Then: at row 0 (only if k = a) the descent to the test row costs a; else a stop at
#   column b costs 2d + b + 1 plus a descent of k + (b even), a zero row 3d plus k + (d
#   odd), both <= 3d + k + (d mod 2). As w(a - 1) >= 3d + 3, the maximum is F(a) + a for
#   a <= d and F(d) + 4d + (d mod 2) for a > d.
#   phase 3: walk d + 1, a pivot row of pivot p costs 3d + 3 - 2p (then a walk of d), the
#   final zero row (exists iff rank < m) d + 2 more: at most 1 + sum_{p < r}(4d + 3 - 2p)
#   + (m > d)(2d + 2) with r = min(m, d) (for m <= d a zero row instead of the pivot
#   m - 1 saves at least 3).
# Summed (simulators.learner_tape.time_bound): t = 1 for m = 0, and
#   t(m, d) = (12dm^2 + 60dm - m^3 + 9m^2 + 70m + 18)/6 - floor((m - 1)^2/4)  (1 <= m <= d),
#   t(m, d) = t(d, d) + F + 11d + 12 + (m - d - 1)(F + 12d + 10 + (d mod 2))  (m > d),
#   F = F(d) = (7d^2 + 7d)/2 - floor(d/2). Attained by the examples -e_0, ..., -e_{d-1}
#   (x^a_a = -1, else +1) then all-(+1) examples, labels +1, x = +1 (tests check m <= 16,
#   d <= 8); t(8, 6) = 1325, t(16, 8) = 4585.
#
# 33 states, 16 symbols (base, A+ A-, U T T- T^ B), 175 defined transitions, every one used
# by the exhaustive tests (tests/test_parity_machine.py).
name parity
symbols o p n p< n< P N P^ N^ A+ A- U T T- T^ B

# ---------------------------------------------------------------- phase 1: test row to the top

state start:                         # on the test row's label cell (m, d)
    on P^: write A+, halt            # m = 0: no examples, S = {} and the answer is +1
    on P: write U, move R, goto bottom

state bottom:                        # first work column of row m: the bottom mark
    on o: write B, move L, goto lift

state lift:                          # phase 1: walk left along the test row, then up
    on U p n: move L
    on p< n<: move U, goto sw0

# ---------------------------------------------------------------- the swap pass
# Rows r (upper) and r + 1 (lower), one column at a time from the current column to the
# label column: new upper = lower XOR f * upper, new lower = upper. swF reads the upper
# bit y, swF.yY writes y below and computes x XOR f*y, swF.nN writes it above. At the label
# column the kind of the lower label picks what comes next (U: phase 1, T/T-: phase 3,
# P/N: crossing or bubbling), and a `^` on the upper label says the upper row is row 0.

state sw0:                           # f = 0 (plain swap), on the upper cell
    on p p< P P^: move D, goto sw0.y0
    on n n< N N^: move D, goto sw0.y1

state sw1:                           # f = 1, on the upper cell
    on p p< P P^: move D, goto sw1.y0
    on n n< N N^: move D, goto sw1.y1
    on T T^: move D, goto sw1.yT     # crossing: the upper row is the test row

state sw0.y0:                        # lower cell: write 0, the upper gets x
    on p: move U, goto sw0.n0
    on n: write p, move U, goto sw0.n1
    on p<: move U, goto sw0.n0
    on n<: write p<, move U, goto sw0.n1
    on P: move U, goto sw0.n0
    on N: write P, move U, goto sw0.n1
    on U: write P, move U, goto putU
    on T: write P, move U, goto putT0
    on T-: write P, move U, goto putT1

state sw0.y1:                        # lower cell: write 1, the upper gets x
    on p: write n, move U, goto sw0.n0
    on n: move U, goto sw0.n1
    on p<: write n<, move U, goto sw0.n0
    on n<: move U, goto sw0.n1
    on P: write N, move U, goto sw0.n0
    on N: move U, goto sw0.n1
    on U: write N, move U, goto putU
    on T: write N, move U, goto putT0
    on T-: write N, move U, goto putT1

state sw1.y0:                        # lower cell: write 0, the upper gets x XOR 0
    on p: move U, goto sw1.n0
    on n: write p, move U, goto sw1.n1
    on p<: move U, goto sw1.n0
    on n<: write p<, move U, goto sw1.n1
    on P: move U, goto sw1.n0
    on N: write P, move U, goto sw1.n1
    on T: write P, move U, goto putT0
    on T-: write P, move U, goto putT1

state sw1.y1:                        # lower cell: write 1, the upper gets x XOR 1
    on p: write n, move U, goto sw1.n1
    on n: move U, goto sw1.n0
    on p<: write n<, move U, goto sw1.n1
    on n<: move U, goto sw1.n0
    on P: write N, move U, goto sw1.n1
    on N: move U, goto sw1.n0
    on T: write N, move U, goto putT1
    on T-: write N, move U, goto putT0

state sw1.yT:                        # crossing, label column: the test label goes down
    on P: write T, move U, goto sw1.n0
    on N: write T, move U, goto sw1.n1

state sw0.n0:                        # upper cell: write 0
    on p n: write p, move R, goto sw0
    on p< n<: write p<, move R, goto sw0
    on P N: write P, move L, goto lap
    on P^ N^: write P^, move D, goto home

state sw0.n1:                        # upper cell: write 1
    on p n: write n, move R, goto sw0
    on p< n<: write n<, move R, goto sw0
    on P N: write N, move L, goto lap
    on P^ N^: write N^, move D, goto home

state sw1.n0:
    on p n: write p, move R, goto sw1
    on p< n<: write p<, move R, goto sw1
    on P N T: write P, move L, goto lap
    on P^ N^ T^: write P^, move D, goto home

state sw1.n1:
    on p n: write n, move R, goto sw1
    on p< n<: write n<, move R, goto sw1
    on P N T: write N, move L, goto lap
    on P^ N^ T^: write N^, move D, goto home

state putU:                          # phase 1: the test row moved up
    on P N: write U, move L, goto lift
    on P^ N^: write T^, move D, goto cross   # it is row 0: phase 2 starts

state putT0:                         # phase 3: the test row moved up, right-hand side 0
    on P N: write T, move L, goto lift3
    on P^ N^: write A+, halt

state putT1:                         # phase 3: right-hand side 1
    on P N: write T-, move L, goto lift3
    on P^ N^: write A-, halt

# ---------------------------------------------------------------- phase 2: bubbling up
# The current row (lower) against the row above it (upper), columns left to right, two
# steps a column (a staircase): the first column where either row holds a 1 decides.
# upper 1: swap from there (f = the lower bit: XOR when both hold 1); lower 1 only: the
# current row is a new pivot row and stays; no 1 at all: the current row is zero and stays.

state lap:                           # walk left along the current row, then column 0
    on p n: move L
    on p<: move U, goto scan.x0
    on n<: move U, goto scan.x1

state scan.lo:                       # on the lower cell (even column >= 2)
    on p: move U, goto scan.x0
    on n: move U, goto scan.x1
    on P N: move D, goto home        # the current row is zero

state scan.x0:                       # on the upper cell, lower bit 0
    on p p<: move R, goto scan.up
    on n n<: move D, goto sw0.y1     # upper first: plain swap

state scan.x1:                       # on the upper cell, lower bit 1
    on p p<: move R, goto ret        # lower first: new pivot row, stays
    on n n<: move D, goto sw1.y1     # both: XOR and swap

state scan.up:                       # on the upper cell (odd column)
    on p: move D, goto scan.y0
    on n: move D, goto scan.y1
    on P N P^ N^: move D, goto home  # the current row is zero

state scan.y0:                       # on the lower cell, upper bit 0
    on p: move R, goto scan.lo
    on n: move R, goto ret           # new pivot row

state scan.y1:                       # on the lower cell, upper bit 1: f = lower bit
    on p: write n, move U, goto sw0.n0
    on n: move U, goto sw1.n0
    on p<: write n<, move U, goto sw0.n0
    on n<: move U, goto sw1.n0

state ret:                           # walk right to the label column
    on p n: move R
    on P N P^ N^: move D, goto home

state home:                          # down the label column to the test row
    on P N: move D
    on T: move R, goto check

state check:                         # is the test row the bottom row?
    on o: move L, goto cross
    on B: move L, goto lift3         # yes: every example is done, phase 3

state cross:                         # fetch the next example (the row below the test row)
    on T: move D
    on P: move L, goto load
    on N: move L, goto load.flip     # y = -1: flip the row while walking left

state load:
    on p n: move L
    on p< n<: move U, goto sw1       # crossing: new upper = example XOR test row

state load.flip:
    on p: write n, move L
    on n: write p, move L
    on p<: write n<, move U, goto sw1
    on n<: write p<, move U, goto sw1

# ---------------------------------------------------------------- phase 3: the test row

state lift3:                         # walk left along the test row, then up
    on T p n: move L
    on p< n<: move U, goto seek

state seek:                          # the upper row's first 1 decides f (the test bit)
    on p p<: move R
    on n n<: move D, goto scan.y1
    on P N P^ N^: move D, goto answer   # a zero row: every pivot row is passed

state answer:                        # on the test row's label
    on T: write A+, halt
    on T-: write A-, halt

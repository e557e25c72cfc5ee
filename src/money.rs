//! Exact money and commission rates on `rust_decimal`, and the rounding rule of MONEY-1.

use std::fmt;
use std::iter::Sum;
use std::ops::{Add, AddAssign, Neg, Sub, SubAssign};
use std::str::FromStr;

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

/// An exact amount of money in the scenario's currency.
///
/// Amounts are never floats (MONEY-1). Arithmetic is exact; the only rounding happens where a
/// rule says so, through [`Rounding::apply`].
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct Money(pub Decimal);

impl Money {
    pub const ZERO: Money = Money(Decimal::ZERO);

    pub fn new(d: Decimal) -> Money {
        Money(d)
    }
    pub fn is_zero(self) -> bool {
        self.0.is_zero()
    }
    pub(crate) fn is_negative(self) -> bool {
        self.0.is_sign_negative() && !self.0.is_zero()
    }
    /// `self × n` for a whole quantity.
    pub fn times(self, n: u32) -> Money {
        Money(mul_exact(self.0, Decimal::from(n)))
    }
    pub fn min(self, other: Money) -> Money {
        if self <= other { self } else { other }
    }
    pub fn max(self, other: Money) -> Money {
        if self >= other { self } else { other }
    }
    /// Lossy conversion for charts and statistics only; never for money arithmetic.
    pub fn to_f64(self) -> f64 {
        use rust_decimal::prelude::ToPrimitive;
        self.0.to_f64().unwrap_or(0.0)
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.normalize())
    }
}

/// Text that is not an amount of money.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a decimal amount (expected e.g. \"12500\" or \"19.99\")")]
pub struct MoneyError(pub String);

impl FromStr for Money {
    type Err = MoneyError;
    fn from_str(s: &str) -> Result<Money, MoneyError> {
        Decimal::from_str_exact(s.trim())
            .map(Money)
            .map_err(|_| MoneyError(s.to_string()))
    }
}

impl<'de> Deserialize<'de> for Money {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Money, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Money;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an amount of money as a quoted decimal string, e.g. \"19.99\"")
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Money, E> {
                s.parse().map_err(E::custom)
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Money, E> {
                Err(E::custom(format!(
                    "money must be a quoted string, not the float {v}: TOML floats are binary and \
                     inexact (MONEY-1); write \"{v}\""
                )))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Money, E> {
                Err(E::custom(format!(
                    "money must be a quoted string (MONEY-1); write \"{v}\""
                )))
            }
        }
        d.deserialize_any(V)
    }
}

/// `a + b` (`subtract`: `a − b`) exactly as `rust_decimal` computes it — the same value, scale
/// and sign bits — taking a short cut in the case that the event loop's tallies and balances
/// meet almost always: both operands non-zero, of the same scale and below 2^64. There
/// `rust_decimal`'s own fast paths (`ops/add.rs`: `fast_add` for 32-bit operands, the aligned
/// 128-bit path for 64-bit ones) give the sum or difference of the magnitudes with the first
/// operand's scale and the sign that follows, built by `from_parts` (a zero is positive); this
/// does the same without their general set-up. A zero operand is `rust_decimal`'s zero rule,
/// the same on each of its paths (`ops/add.rs`): `0 ± b` is `b` itself (its scale and sign
/// bits), its sign flipped for a subtraction of a non-zero `b`, and `a ± 0` (a non-zero) is `a`
/// itself — the tallies' first additions, an unrefunded line's `paid − refunded`, a fee of zero.
/// Anything else goes to `rust_decimal`. The property test
/// `exact_add_and_sub_match_rust_decimal` compares the bytes.
#[inline(always)]
fn add_sub(a: Decimal, b: Decimal, subtract: bool) -> Decimal {
    if a.is_zero() {
        let mut r = b;
        if subtract && !b.is_zero() {
            r.set_sign_negative(b.is_sign_positive());
        }
        return r;
    }
    if b.is_zero() {
        return a;
    }
    if let Some((m, negative, scale)) = small_sum(a, b, subtract) {
        return from_mantissa(m, negative, scale);
    }
    if subtract { a - b } else { a + b }
}

/// `a ± b` in integers when both are non-zero, of one scale and below 2^64: the result's
/// mantissa (below 2^65), sign and scale, as `rust_decimal` gives them; `None` otherwise. The
/// common case of [`add_sub`] and [`Term::of_sum`].
#[inline(always)]
fn small_sum(a: Decimal, b: Decimal, subtract: bool) -> Option<(u128, bool, u32)> {
    let (x, y) = (a.unpack(), b.unpack());
    if x.hi != 0 || y.hi != 0 || x.scale != y.scale {
        return None;
    }
    let m1 = u64::from(x.lo) | (u64::from(x.mid) << 32);
    let m2 = u64::from(y.lo) | (u64::from(y.mid) << 32);
    if m1 == 0 || m2 == 0 {
        return None;
    }
    let (m, negative) = if subtract ^ (x.negative != y.negative) {
        if m1 >= m2 {
            (u128::from(m1 - m2), x.negative)
        } else {
            (u128::from(m2 - m1), !x.negative)
        }
    } else {
        (u128::from(m1) + u128::from(m2), x.negative)
    };
    Some((m, negative, x.scale))
}

/// The decimal of a 96-bit mantissa `m` (its upper 32 bits ignored), sign and scale.
#[inline]
fn from_mantissa(m: u128, negative: bool, scale: u32) -> Decimal {
    Decimal::from_parts(
        m as u32,
        (m >> 32) as u32,
        (m >> 64) as u32,
        negative,
        scale,
    )
}

/// `a + b`, bit for bit as `rust_decimal`'s, faster in the event loop's common case.
#[inline(always)]
pub(crate) fn add_exact(a: Decimal, b: Decimal) -> Decimal {
    add_sub(a, b, false)
}

/// `a − b`, bit for bit as `rust_decimal`'s, faster in the event loop's common case.
#[inline(always)]
pub(crate) fn sub_exact(a: Decimal, b: Decimal) -> Decimal {
    add_sub(a, b, true)
}

/// `a × b` exactly as `rust_decimal` computes it — the same value, scale and sign bits — with a
/// short cut for the event loop's case: both mantissas below 2^32 and the scales summing to at
/// most 28 (a price times a quantity, an amount times a rate's fraction). There `rust_decimal`'s
/// own first path (`ops/mul.rs`, 32-bit operands) gives the 64-bit product of the mantissas with
/// the summed scale and the sign that follows, built by `from_parts`; this does the same without
/// its general set-up. A zero operand gives `Decimal::ZERO`, as there. Anything else goes to
/// `rust_decimal`. The property test `exact_mul_and_round_match_rust_decimal` compares the bytes.
#[inline(always)]
pub(crate) fn mul_exact(a: Decimal, b: Decimal) -> Decimal {
    let (x, y) = (a.unpack(), b.unpack());
    if x.hi == 0 && y.hi == 0 && x.mid == 0 && y.mid == 0 && x.scale + y.scale <= Decimal::MAX_SCALE
    {
        if x.lo == 0 || y.lo == 0 {
            return Decimal::ZERO;
        }
        let m = u64::from(x.lo) * u64::from(y.lo);
        return from_mantissa(u128::from(m), x.negative != y.negative, x.scale + y.scale);
    }
    a * b
}

/// `d.round_dp_with_strategy(dp, strategy)` exactly as `rust_decimal` computes it, with a short
/// cut for a non-zero mantissa below 2^64 that loses at most 19 digits: `rust_decimal` divides
/// the mantissa by 10^(scale − dp) (in steps of 10^9, which truncate to the same quotient),
/// compares the remainder with half of that power and adds one by the strategy, then builds the
/// result with `from_parts` at scale `dp`; this does the same in one 64-bit division. Values
/// with no more than `dp` decimals come back unchanged and zeros keep their sign at scale `dp`,
/// as there (both left to `rust_decimal`). The property test compares the bytes.
#[inline(always)]
pub(crate) fn round_exact(d: Decimal, dp: u32, strategy: RoundingStrategy) -> Decimal {
    let x = d.unpack();
    if x.hi == 0 && x.scale > dp && x.scale - dp <= 19 && (x.lo | x.mid) != 0 {
        let m = u64::from(x.lo) | (u64::from(x.mid) << 32);
        if let Some(q) = round_mantissa(m, x.scale - dp, strategy) {
            return Decimal::from_parts(q as u32, (q >> 32) as u32, 0, x.negative, dp);
        }
    }
    d.round_dp_with_strategy(dp, strategy)
}

/// [`round_exact`]'s short cut: the mantissa `m` with its last `drop` (1 ..= 19) digits rounded
/// off by `strategy` (`None` for a strategy the rounding rule never uses). Below 2^63 for every
/// `m`: the quotient is at most `m / 10`, plus one.
#[inline(always)]
fn round_mantissa(m: u64, drop: u32, strategy: RoundingStrategy) -> Option<u64> {
    // A table, not `10u64.pow` (a loop of multiplications at run time; issue 18, session 17).
    let pow = POW10_U64[drop as usize];
    let (q, rem) = (m / pow, m % pow);
    let half = pow / 2;
    let up = match strategy {
        RoundingStrategy::MidpointNearestEven => rem > half || (rem == half && (q & 1) == 1),
        RoundingStrategy::MidpointAwayFromZero => rem >= half,
        RoundingStrategy::ToZero => false,
        RoundingStrategy::AwayFromZero => rem != 0,
        _ => return None,
    };
    Some(q + u64::from(up))
}

/// A running sum of decimals — an account balance, a total by kind, a metric's tally — that
/// hands back, whenever it is read, exactly the `Decimal` that adding the same amounts one by
/// one with [`add_exact`]/[`sub_exact`] (that is, `rust_decimal`) gives: the value, the scale and
/// the sign bits. It keeps the sum as a signed 64-bit mantissa and its scale, so that the event
/// loop's usual step — a non-zero sum plus or minus a non-zero amount of the same scale, the
/// result within 64 bits — is one checked integer addition with no `Decimal` bookkeeping (issue
/// 18: the ledger's postings were ~290 instructions each, most of it `Decimal` flags and zero
/// tests). There `rust_decimal` gives the exact sum at that scale, a zero sum positive (`ops/
/// add.rs`: `fast_add` and the 64-bit path build the result with `from_parts`/`from_parts_raw`,
/// which clear a zero's sign), which is what the integer holds. A zero sum, a zero amount and an
/// amount of another scale take a second integer path (`add_slow`); every other step — a 64-bit
/// overflow, a sum or amount beyond 63 bits — goes through `Decimal`
/// ([`add_exact`]) and stores the result back, so the two never disagree; a sum whose mantissa
/// does not fit 63 bits is kept as the `Decimal`'s own bytes ("wide"). 16 bytes, as a
/// `Decimal`. The property test `decimal_sum_matches_rust_decimal` compares the bytes.
#[derive(Copy, Clone, Debug)]
#[repr(C, align(8))]
pub(crate) struct DecimalSum {
    /// `FAST | scale << 8` (with `NEG_ZERO` for a negative zero) when `m` holds the sum; else the
    /// `Decimal`'s flags (whose low 16 bits are always zero, so `FAST` is clear).
    meta: u32,
    /// Wide: the `Decimal`'s `lo` word.
    lo: u32,
    /// Fast: the signed mantissa. Wide: the `Decimal`'s `mid | hi << 32`.
    m: i64,
}

impl Default for DecimalSum {
    fn default() -> DecimalSum {
        DecimalSum::ZERO
    }
}

/// `DecimalSum::meta`'s tag of the integer form (bit 0, never set in a `Decimal`'s flags).
const FAST: u32 = 1;
/// `DecimalSum::meta`: the integer form's zero is a negative zero.
const NEG_ZERO: u32 = 2;
/// `Term::key` of a zero amount (bit 2, never set in a sum's `meta`).
const ZERO_TERM: u32 = 4;
/// `Term::key` of an amount beyond 63 bits: `NEG_ZERO` alone, which no sum's `meta` is (an
/// integer sum's has `FAST`, a wide sum's — a `Decimal`'s flags — has its low 16 bits clear).
const WIDE_TERM: u32 = NEG_ZERO;
/// 10^0 ..= 10^19, every power of ten a `u64` holds: [`round_exact`]'s divisors, and (through
/// [`pow10_i64`]) the exact sums' scale factors.
const POW10_U64: [u64; 20] = {
    let mut p = [1u64; 20];
    let mut i = 1;
    while i < 20 {
        p[i] = p[i - 1] * 10;
        i += 1;
    }
    p
};

/// 10^`k` as an `i64`, for `k` in 0 ..= 18 (`None` beyond: 10^19 exceeds `i64::MAX`).
#[inline(always)]
fn pow10_i64(k: u32) -> Option<i64> {
    POW10_U64
        .get(k as usize)
        .and_then(|&p| i64::try_from(p).ok())
}

/// An amount prepared for adding to [`DecimalSum`]s (once, for several sums: a posting moves it
/// out of one balance, into another and into a total by kind).
#[derive(Copy, Clone, Debug)]
pub(crate) struct Term {
    /// `FAST | scale << 8` when the amount is non-zero and its mantissa fits 63 bits,
    /// `ZERO_TERM` for a zero of any scale or sign, else `WIDE_TERM` (neither of which ever
    /// equals a sum's `meta`: not 0, which a wide sum of scale 0 has).
    key: u32,
    /// The signed mantissa (when `key` has `FAST`).
    m: i64,
    d: Decimal,
}

impl Term {
    /// `Term::of(Decimal::ZERO)`, ready made (a settlement's distributor fee when there is no
    /// distributor; test `the_zero_term_is_term_of_zero`).
    pub(crate) const ZERO: Term = Term {
        key: ZERO_TERM,
        m: 0,
        d: Decimal::ZERO,
    };
    #[inline(always)]
    pub(crate) fn of(d: Decimal) -> Term {
        let u = d.unpack();
        let mag = u64::from(u.lo) | (u64::from(u.mid) << 32);
        let fits = u.hi == 0 && mag >> 63 == 0;
        let m = if u.negative {
            (mag as i64).wrapping_neg()
        } else {
            mag as i64
        };
        let key = if !fits {
            WIDE_TERM
        } else if mag == 0 {
            ZERO_TERM
        } else {
            FAST | (u.scale << 8)
        };
        Term { key, m, d }
    }
    /// `Term::of(a + b)` (`subtract`: `Term::of(a − b)`), the sum as [`add_exact`]/[`sub_exact`]
    /// give it, in one step in their common case — both non-zero, of one scale, below 2^64, the
    /// result non-zero and within 63 bits: `add_sub`'s mantissa is the term's, so the result is
    /// not unpacked and checked again (issue 18, session 16: a line's payment into escrow and
    /// its seller's revenue). Anything else: `Term::of` of `add_sub`'s result. The test
    /// `exact_add_and_sub_match_rust_decimal` compares the two, field by field.
    #[inline(always)]
    pub(crate) fn of_sum(a: Decimal, b: Decimal, subtract: bool) -> Term {
        if let Some((m, negative, scale)) = small_sum(a, b, subtract)
            && m != 0
            && m >> 63 == 0
        {
            let mag = m as i64;
            return Term {
                key: FAST | (scale << 8),
                m: if negative { -mag } else { mag },
                d: from_mantissa(m, negative, scale),
            };
        }
        Term::of(add_sub(a, b, subtract))
    }
    /// `Term::of(a × n)` for a whole quantity `n` (`Money::times`: `mul_exact` by
    /// `Decimal::from(n)`), in one step in the common case — `a` non-zero with a 32-bit mantissa,
    /// `n` non-zero, the product within 63 bits: `mul_exact`'s product at `a`'s scale is the
    /// term's, so it is not unpacked and tested again (issue 18, session 17: a placed line's
    /// gross). Anything else: `Term::of` of `mul_exact`'s product. The test
    /// `times_term_is_term_of_times` compares the two, field by field.
    #[inline(always)]
    pub(crate) fn of_times(a: Decimal, n: u32) -> Term {
        let x = a.unpack();
        if x.hi == 0 && x.mid == 0 && x.lo != 0 && n != 0 {
            let m = u64::from(x.lo) * u64::from(n);
            if m >> 63 == 0 {
                let mag = m as i64;
                return Term {
                    key: FAST | (x.scale << 8),
                    m: if x.negative { -mag } else { mag },
                    d: from_mantissa(u128::from(m), x.negative, x.scale),
                };
            }
        }
        Term::of(mul_exact(a, Decimal::from(n)))
    }
    /// The amount itself.
    #[inline(always)]
    pub(crate) fn amount(&self) -> Decimal {
        self.d
    }
    /// True for a zero amount (of any scale or sign).
    #[inline(always)]
    pub(crate) fn is_zero(&self) -> bool {
        self.key == ZERO_TERM
    }
    /// True for an amount below zero (a negative zero is not).
    #[inline(always)]
    pub(crate) fn is_negative(&self) -> bool {
        if self.key & FAST != 0 {
            self.m < 0
        } else {
            self.d.is_sign_negative() && !self.d.is_zero()
        }
    }
}

impl DecimalSum {
    /// `Decimal::ZERO` (positive, scale 0).
    pub(crate) const ZERO: DecimalSum = DecimalSum {
        meta: FAST,
        lo: 0,
        m: 0,
    };

    /// The sum holding `d`, bytes and all.
    pub(crate) fn of(d: Decimal) -> DecimalSum {
        let u = d.unpack();
        let mag = u64::from(u.lo) | (u64::from(u.mid) << 32);
        if u.hi == 0 && mag >> 63 == 0 {
            let neg_zero = mag == 0 && u.negative;
            DecimalSum {
                meta: FAST | (u.scale << 8) | if neg_zero { NEG_ZERO } else { 0 },
                lo: 0,
                m: if u.negative {
                    -(mag as i64)
                } else {
                    mag as i64
                },
            }
        } else {
            let b = d.serialize();
            let word = |i: usize| u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
            DecimalSum {
                meta: word(0),
                lo: word(4),
                m: (u64::from(word(8)) | (u64::from(word(12)) << 32)) as i64,
            }
        }
    }

    /// The sum as `rust_decimal` would have it.
    #[inline]
    pub(crate) fn get(&self) -> Decimal {
        if self.meta & FAST != 0 {
            let mag = self.m.unsigned_abs();
            let mut d = Decimal::from_parts(
                mag as u32,
                (mag >> 32) as u32,
                0,
                self.m < 0,
                (self.meta >> 8) & 0xff,
            );
            if self.meta & NEG_ZERO != 0 {
                // `from_parts` drops a zero's sign; setting it afterwards keeps it.
                d.set_sign_negative(true);
            }
            d
        } else {
            let mut b = [0u8; 16];
            let m = self.m as u64;
            b[0..4].copy_from_slice(&self.meta.to_le_bytes());
            b[4..8].copy_from_slice(&self.lo.to_le_bytes());
            b[8..12].copy_from_slice(&(m as u32).to_le_bytes());
            b[12..16].copy_from_slice(&((m >> 32) as u32).to_le_bytes());
            Decimal::deserialize(b)
        }
    }

    /// True when the sum is below zero (a negative zero is not).
    #[inline]
    pub(crate) fn is_negative(&self) -> bool {
        if self.meta & FAST != 0 {
            self.m < 0
        } else {
            let d = self.get();
            d.is_sign_negative() && !d.is_zero()
        }
    }

    /// `self + t` (`subtract`: `self − t`), as [`add_exact`]/[`sub_exact`] give it.
    #[inline(always)]
    pub(crate) fn add_term(&mut self, t: &Term, subtract: bool) {
        if self.meta == t.key && self.m != 0 {
            let m = if subtract {
                self.m.checked_sub(t.m)
            } else {
                self.m.checked_add(t.m)
            };
            if let Some(m) = m {
                self.m = m;
                return;
            }
        }
        if t.key == ZERO_TERM && self.meta & FAST != 0 {
            if self.m != 0 {
                // `a ± 0` is `a` (a zero coupon or fee added to a non-zero tally): no call
                return;
            }
            if self.meta == FAST && t.d.scale() == 0 && !t.d.is_sign_negative() {
                // `0 ± 0` with both `Decimal::ZERO` (scale 0, positive) is that zero, bytes and
                // all (`add_slow`: the amount's zero): no call. A settlement's distributor fee
                // without a distributor (`Term::ZERO`) added to a plan's fees that are still zero
                // took `add_slow` once a line (issue 18, session 17).
                return;
            }
        }
        self.add_slow(t.d, subtract);
    }

    /// [`DecimalSum::add_term`] off its first path. A zero sum becomes the amount (negated for a
    /// subtraction); a zero amount leaves a non-zero sum as it is (`rust_decimal`: `a ± 0` is
    /// `a`). Amounts of another scale, both sides non-zero: the
    /// exact sum at the larger scale, a zero sum positive — what `rust_decimal` gives whenever
    /// that sum fits 96 bits (`ops/add.rs`: the 32-bit path rescales one side and adds, the
    /// 64-bit path aligns the scales within 128 bits, `unaligned_add` scales the lower-scale side
    /// up; none rounds unless the aligned value overflows 96 bits, and here it fits 63). Anything
    /// else goes through `Decimal`. Given the amount itself (prepared again here, off the first
    /// path): a `Term` handed by reference would have to be written out to memory at every
    /// posting, where by value it stays in registers (issue 18, session 15).
    #[inline(never)]
    fn add_slow(&mut self, d: Decimal, subtract: bool) {
        let t = &Term::of(d);
        if self.meta & FAST != 0 && self.m == 0 {
            // `0 ± b` is `b` itself, negated for a subtraction of a non-zero `b` (`rust_decimal`'s
            // zero rule, the same on each of its paths): a zero amount keeps its scale and sign
            // bits, a non-zero one its scale.
            if t.key == ZERO_TERM {
                *self = DecimalSum::of(t.d);
                return;
            }
            if t.key & FAST != 0 {
                *self = DecimalSum {
                    meta: t.key,
                    lo: 0,
                    m: if subtract { -t.m } else { t.m },
                };
                return;
            }
        }
        if self.meta & FAST != 0 && self.m != 0 {
            if t.key == ZERO_TERM {
                return;
            }
            if t.key & FAST != 0 {
                let (sa, sb) = ((self.meta >> 8) & 0xff, (t.key >> 8) & 0xff);
                let tm = if subtract {
                    t.m.checked_neg()
                } else {
                    Some(t.m)
                };
                let aligned = if sb < sa {
                    pow10_i64(sa - sb)
                        .and_then(|p| tm?.checked_mul(p))
                        .map(|b| (self.m, b, sa))
                } else {
                    pow10_i64(sb - sa)
                        .and_then(|p| self.m.checked_mul(p))
                        .and_then(|a| Some((a, tm?, sb)))
                };
                if let Some((a, b, scale)) = aligned
                    && let Some(m) = a.checked_add(b)
                {
                    *self = DecimalSum {
                        meta: FAST | (scale << 8),
                        lo: 0,
                        m,
                    };
                    return;
                }
            }
        }
        let d = t.d;
        let s = self.get();
        *self = DecimalSum::of(if subtract {
            sub_exact(s, d)
        } else {
            add_exact(s, d)
        });
    }

    /// `self + d`.
    #[inline(always)]
    pub(crate) fn add(&mut self, d: Decimal) {
        self.add_term(&Term::of(d), false);
    }
}

impl Add for Money {
    type Output = Money;
    #[inline]
    fn add(self, o: Money) -> Money {
        Money(add_exact(self.0, o.0))
    }
}
impl Sub for Money {
    type Output = Money;
    #[inline]
    fn sub(self, o: Money) -> Money {
        Money(sub_exact(self.0, o.0))
    }
}
impl Neg for Money {
    type Output = Money;
    fn neg(self) -> Money {
        Money(-self.0)
    }
}
impl AddAssign for Money {
    #[inline]
    fn add_assign(&mut self, o: Money) {
        self.0 = add_exact(self.0, o.0)
    }
}
impl SubAssign for Money {
    #[inline]
    fn sub_assign(&mut self, o: Money) {
        self.0 = sub_exact(self.0, o.0)
    }
}
impl Sum for Money {
    fn sum<I: Iterator<Item = Money>>(it: I) -> Money {
        it.fold(Money::ZERO, Add::add)
    }
}

/// A commission rate in percent: `Rate(10.5)` is 10.5 %.
///
/// In scenario files a rate is a quoted string with a percent sign, `"10.5%"`. Affiliate rates are
/// validated against RATE-1 (1 %–80 %) and H-3 (steps of 0.01 %) by [`Rate::check_affiliate`].
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Rate(pub Decimal);

impl Rate {
    pub const ZERO: Rate = Rate(Decimal::ZERO);

    pub fn percent(self) -> Decimal {
        self.0
    }
    /// The fraction, `percent / 100`.
    pub fn fraction(self) -> Decimal {
        self.0 / Decimal::ONE_HUNDRED
    }
    /// Checks an affiliate commission rate: 1 %–80 % inclusive (RATE-1) in 0.01 % steps (H-3).
    // rule: RATE-1
    // rule: H-3
    pub fn check_affiliate(self) -> Result<(), RateError> {
        let min = Decimal::ONE;
        let max = Decimal::from(80);
        if self.0 < min || self.0 > max {
            return Err(RateError::OutOfRange(self));
        }
        if self.0.round_dp(2) != self.0 {
            return Err(RateError::Step(self));
        }
        Ok(())
    }
}

impl Rate {
    /// The percentage as an `f64` (`"12.5%"` → 12.5), exactly what parsing its decimal text gives
    /// (the nearest `f64`), for behaviour models' scores — never for money. It runs in the event
    /// loop, so the usual case goes through no text: a rate is `mantissa ÷ 10^scale`, and when
    /// the mantissa has at most 53 bits and the scale is at most 22, both are exact `f64`s and
    /// one IEEE division rounds their quotient to the nearest `f64` — the value parsing gives.
    /// Anything else (never a real rate) takes the text route. Inline: a search converts a
    /// rate per candidate (1.4 million calls in mid).
    #[inline]
    pub fn percent_f64(self) -> f64 {
        /// 10^0 ..= 10^22, every one exact in an `f64`.
        const POW10: [f64; 23] = [
            1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
            1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
        ];
        // The mantissa's words as they are (no 128-bit mantissa, no 128-bit conversion to f64).
        let u = self.0.unpack();
        let m = u64::from(u.lo) | (u64::from(u.mid) << 32);
        let scale = u.scale as usize;
        if u.hi == 0 && m != 0 && m <= 1u64 << 53 && scale < POW10.len() {
            let v = m as f64 / POW10[scale];
            return if u.negative { -v } else { v };
        }
        self.percent_f64_text()
    }

    /// [`Rate::percent_f64`] by formatting the decimal and parsing the text (the definition; the
    /// fallback outside the exact fast path). Formats into a stack buffer: no allocation.
    fn percent_f64_text(self) -> f64 {
        /// A fixed-size `fmt::Write` target; a `Decimal` prints in at most 31 characters.
        struct Buf {
            bytes: [u8; 48],
            len: usize,
        }
        impl fmt::Write for Buf {
            fn write_str(&mut self, s: &str) -> fmt::Result {
                let end = self.len + s.len();
                let slot = self.bytes.get_mut(self.len..end).ok_or(fmt::Error)?;
                slot.copy_from_slice(s.as_bytes());
                self.len = end;
                Ok(())
            }
        }
        let mut buf = Buf {
            bytes: [0; 48],
            len: 0,
        };
        if fmt::Write::write_fmt(&mut buf, format_args!("{}", self.0.normalize())).is_err() {
            return 0.0;
        }
        std::str::from_utf8(&buf.bytes[..buf.len])
            .ok()
            .and_then(|t| t.parse::<f64>().ok())
            .unwrap_or(0.0)
    }
}

impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}%", self.0.normalize())
    }
}

impl Serialize for Rate {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Why a rate is refused: not a percentage, or not an affiliate commission rate.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RateError {
    #[error("`{0}` is not a rate: write a percentage such as \"10%\" or \"12.5%\"")]
    Syntax(String),
    #[error("commission rate {0} is outside 1%–80% (RATE-1)")]
    OutOfRange(Rate),
    #[error("commission rate {0} is not a whole number of 0.01% steps (H-3)")]
    Step(Rate),
}

impl RateError {
    /// The catalogue rule the error breaks, if any.
    pub fn rule(&self) -> Option<crate::rules::catalogue::RuleId> {
        use crate::rules::catalogue::RuleId;
        match self {
            RateError::Syntax(_) => None,
            RateError::OutOfRange(_) => Some(RuleId::Rate1),
            RateError::Step(_) => Some(RuleId::H3),
        }
    }
}

impl FromStr for Rate {
    type Err = RateError;
    fn from_str(s: &str) -> Result<Rate, RateError> {
        let t = s.trim();
        let syntax = || RateError::Syntax(s.to_string());
        let num = t.strip_suffix('%').ok_or_else(syntax)?;
        Decimal::from_str_exact(num.trim())
            .map(Rate)
            .map_err(|_| syntax())
    }
}

impl<'de> Deserialize<'de> for Rate {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Rate, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Rate;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a rate as a quoted percentage, e.g. \"10%\"")
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Rate, E> {
                s.parse().map_err(E::custom)
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Rate, E> {
                Err(E::custom(format!(
                    "a rate must be a quoted percentage such as \"10%\", not the number {v}"
                )))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Rate, E> {
                Err(E::custom(format!(
                    "a rate must be a quoted percentage; write \"{v}%\""
                )))
            }
        }
        d.deserialize_any(V)
    }
}

/// How commission and pro-rata amounts are rounded to the currency's minor unit (MONEY-1).
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RoundingMode {
    /// Half away from zero: 0.005 → 0.01 (the default).
    #[default]
    HalfUp,
    /// Banker's rounding: half to even.
    HalfEven,
    /// Toward zero (truncate).
    Down,
    /// Away from zero.
    Up,
}

/// A rounding rule: mode plus the number of decimal places of the currency's minor unit.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Rounding {
    pub mode: RoundingMode,
    pub minor_unit: u32,
}

impl Rounding {
    // rule: MONEY-1
    pub fn apply(self, d: Decimal) -> Money {
        Money(round_exact(d, self.minor_unit, self.strategy()))
    }

    /// The `rust_decimal` strategy of the rounding mode.
    #[inline(always)]
    fn strategy(self) -> RoundingStrategy {
        match self.mode {
            RoundingMode::HalfUp => RoundingStrategy::MidpointAwayFromZero,
            RoundingMode::HalfEven => RoundingStrategy::MidpointNearestEven,
            RoundingMode::Down => RoundingStrategy::ToZero,
            RoundingMode::Up => RoundingStrategy::AwayFromZero,
        }
    }

    /// Commission on `base` at `rate`, keeping `kept/total` of it (pro-rata after a partial
    /// refund, SETTLE-3). One rounding step, at the end.
    // rule: SETTLE-1
    // rule: H-2
    pub fn commission(self, base: Money, rate: Rate, kept: Money, total: Money) -> Money {
        if total.is_zero() || kept.is_zero() {
            return Money::ZERO;
        }
        self.commission_at(base, rate.fraction(), kept, total)
    }

    /// [`Rounding::commission`] given the rate's [`Rate::fraction`] (computed once per distinct
    /// rate by the caller).
    pub(crate) fn commission_at(
        self,
        base: Money,
        fraction: Decimal,
        kept: Money,
        total: Money,
    ) -> Money {
        if total.is_zero() || kept.is_zero() {
            return Money::ZERO;
        }
        let raw = mul_exact(base.0, fraction);
        let raw = if kept == total {
            raw
        } else {
            raw * kept.0 / total.0
        };
        self.apply(raw)
    }

    /// [`Rounding::commission_at`] with nothing refunded (`kept` = `total` = `base`): the same
    /// amount, without comparing `kept` and `total`.
    // rule: SETTLE-1
    #[inline]
    pub(crate) fn commission_whole(self, base: Money, fraction: Decimal) -> Money {
        if base.is_zero() {
            return Money::ZERO;
        }
        self.apply(mul_exact(base.0, fraction))
    }

    /// `Term::of` of [`Rounding::commission_whole`], prepared inside the multiply and the
    /// rounding in their common case — base and fraction non-zero with 32-bit mantissas, the
    /// product with 1 to 19 digits more than the minor unit: `mul_exact`'s 64-bit product is
    /// rounded as [`round_exact`] rounds it, and the term is built from the rounded mantissa
    /// (the `Decimal` is `round_exact`'s own `from_parts`) without building the product as a
    /// `Decimal`, unpacking it to round it and unpacking the commission again to prepare it for
    /// the sums (issue 18, session 17: a settlement's commission and distributor fee). Anything
    /// else: `Term::of(commission_whole(..))`. The test `commission_term_is_term_of_commission`
    /// compares the two, field by field.
    // rule: SETTLE-1
    #[inline]
    pub(crate) fn commission_whole_term(self, base: Money, fraction: Decimal) -> Term {
        let (x, y) = (base.0.unpack(), fraction.unpack());
        let scale = x.scale + y.scale;
        let dp = self.minor_unit;
        if x.hi == 0
            && y.hi == 0
            && x.mid == 0
            && y.mid == 0
            && x.lo != 0
            && y.lo != 0
            && scale <= Decimal::MAX_SCALE
            && scale > dp
            && scale - dp <= 19
        {
            // `mul_exact`: the non-zero product at scale `scale`, negative when the signs differ.
            let m = u64::from(x.lo) * u64::from(y.lo);
            let negative = x.negative != y.negative;
            if let Some(q) = round_mantissa(m, scale - dp, self.strategy()) {
                let mag = q as i64;
                return Term {
                    key: if q == 0 { ZERO_TERM } else { FAST | (dp << 8) },
                    m: if negative { mag.wrapping_neg() } else { mag },
                    d: Decimal::from_parts(q as u32, (q >> 32) as u32, 0, negative, dp),
                };
            }
        }
        Term::of(self.commission_whole(base, fraction).0)
    }

    /// `amount × num / den`, rounded: the share of an amount refunded with part of a line.
    pub fn share(self, amount: Money, num: u32, den: u32) -> Money {
        if den == 0 {
            return Money::ZERO;
        }
        self.apply(amount.0 * Decimal::from(num) / Decimal::from(den))
    }

    /// True when `m` has no digits below the minor unit.
    pub(crate) fn is_whole(self, m: Money) -> bool {
        m.0.round_dp(self.minor_unit) == m.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::catalogue::RuleId;

    /// Decimals that reach every branch of `add_sub` and of rust_decimal's addition: zeros of
    /// either sign and any scale, 32-, 64- and 96-bit magnitudes, equal magnitudes, both signs,
    /// equal and different scales.
    #[test]
    fn exact_add_and_sub_match_rust_decimal() {
        use rand::{Rng, RngExt, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(18);
        let mags = [
            0u128,
            1,
            7,
            99,
            u32::MAX as u128,
            1 << 32,
            u64::MAX as u128,
            1 << 64,
        ];
        let pick = |rng: &mut rand_chacha::ChaCha8Rng| {
            let m: u128 = match rng.random_range(0..4) {
                0 => mags[rng.random_range(0..mags.len())],
                1 => u128::from(rng.next_u32()),
                2 => u128::from(rng.next_u64()),
                _ => u128::from(rng.next_u64()) | (u128::from(rng.next_u32()) << 64),
            };
            let scale = if rng.random_bool(0.6) {
                2
            } else {
                rng.random_range(0..=28)
            };
            from_mantissa(m, rng.random_bool(0.4), scale)
        };
        let neg_zero = -Decimal::new(0, 3);
        for i in 0..200_000 {
            let (a, b) = if i % 1000 == 0 {
                (neg_zero, pick(&mut rng))
            } else {
                (pick(&mut rng), pick(&mut rng))
            };
            // the same magnitude on both sides, half the time
            let b = if i % 7 == 0 {
                Decimal::from_parts(0, 0, 0, false, 0) + a
            } else {
                b
            };
            assert_add_sub_match(a, b);
        }
    }

    /// `mul_exact` and `round_exact` against `rust_decimal`, byte for byte: zeros of both signs,
    /// 32-, 64- and 96-bit mantissas, both signs, every scale, every rounding strategy the
    /// rounding rule uses, at several `dp`s (midpoints included: mantissas ending in 5…0).
    #[test]
    fn exact_mul_and_round_match_rust_decimal() {
        use rand::{Rng, RngExt, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(19);
        let pick = |rng: &mut rand_chacha::ChaCha8Rng| {
            let m: u128 = match rng.random_range(0..6) {
                0 => [0u128, 1, 5, 15, 25, 50, 500, 1 << 32, u32::MAX as u128]
                    [rng.random_range(0..9)],
                1 => u128::from(rng.next_u32() % 1_000_000) * 10u128.pow(rng.random_range(0..4)),
                2 => u128::from(rng.next_u32()),
                3 => u128::from(rng.next_u64()),
                4 => u128::from(rng.next_u32() / 10 * 10 + 5),
                _ => u128::from(rng.next_u64()) | (u128::from(rng.next_u32()) << 64),
            };
            let scale = if rng.random_bool(0.5) {
                rng.random_range(0..=4)
            } else {
                rng.random_range(0..=28)
            };
            from_mantissa(m, rng.random_bool(0.3), scale)
        };
        let strategies = [
            RoundingStrategy::MidpointNearestEven,
            RoundingStrategy::MidpointAwayFromZero,
            RoundingStrategy::ToZero,
            RoundingStrategy::AwayFromZero,
        ];
        for _ in 0..200_000 {
            let (a, b) = (pick(&mut rng), pick(&mut rng));
            if let Some(want) = a.checked_mul(b) {
                assert_eq!(
                    mul_exact(a, b).serialize(),
                    want.serialize(),
                    "{a:?} * {b:?}"
                );
            }
            for s in strategies {
                let dp = rng.random_range(0..=6);
                assert_eq!(
                    round_exact(a, dp, s).serialize(),
                    a.round_dp_with_strategy(dp, s).serialize(),
                    "{a:?} to {dp} by {s:?}"
                );
            }
        }
    }

    /// A [`DecimalSum`] fed a run of additions and subtractions reads back, after every step, as
    /// the very `Decimal` (its bytes) that `rust_decimal` gives adding the same amounts one by
    /// one: amounts of one scale most of the time (the integer step), others now and then,
    /// zeros of both signs and several scales, 32-, 64- and 96-bit magnitudes, sums that cancel
    /// to zero, cross 2^63 and go wide and come back.
    #[test]
    fn decimal_sum_matches_rust_decimal() {
        use rand::{Rng, RngExt, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(20);
        let mut wide = 0;
        let mut fast_steps = 0;
        let mut other_scale = 0;
        for run in 0..3_000 {
            let mut want = if run % 5 == 0 {
                -Decimal::new(0, rng.random_range(0..4))
            } else {
                Decimal::ZERO
            };
            let mut sum = DecimalSum::of(want);
            assert_eq!(sum.get().serialize(), want.serialize());
            let mut last: Vec<Decimal> = Vec::new();
            for _ in 0..200 {
                let m: u128 = match rng.random_range(0..10) {
                    0 => 0,
                    1 => u128::from(rng.next_u64()),
                    2 => u128::from(rng.next_u64()) | (u128::from(rng.next_u32()) << 64),
                    3 => (1u128 << 63) - u128::from(rng.random_range(0..3u32)),
                    _ => u128::from(rng.next_u32() % 100_000),
                };
                let scale = match rng.random_range(0..10) {
                    0 => rng.random_range(0..=28),
                    1 => 0,
                    _ => 2,
                };
                let mut d = from_mantissa(m, rng.random_bool(0.3), scale);
                if m == 0 && rng.random_bool(0.5) {
                    d.set_sign_negative(true);
                }
                // now and then the amount that cancels the sum, or repeats one
                if rng.random_bool(0.05) {
                    d = want;
                } else if rng.random_bool(0.05)
                    && let Some(&p) = last.last()
                {
                    d = p;
                }
                last.push(d);
                let subtract = rng.random_bool(0.4);
                let next = if subtract {
                    want.checked_sub(d)
                } else {
                    want.checked_add(d)
                };
                let Some(next) = next else { break };
                let t = Term::of(d);
                let before = sum;
                assert_eq!(t.is_zero(), d.is_zero());
                assert_eq!(t.is_negative(), d.is_sign_negative() && !d.is_zero());
                if sum.meta == t.key && sum.m != 0 {
                    fast_steps += 1;
                } else if sum.meta & FAST != 0 && sum.m != 0 && t.key & FAST != 0 {
                    other_scale += 1;
                }
                if subtract || rng.random_bool(0.5) {
                    sum.add_term(&t, subtract);
                } else {
                    sum.add(d);
                }
                want = next;
                assert_eq!(
                    sum.get().serialize(),
                    want.serialize(),
                    "{want:?} after {} {d:?} from {before:?} with {t:?}",
                    if subtract { "-" } else { "+" }
                );
                assert_eq!(
                    sum.is_negative(),
                    want.is_sign_negative() && !want.is_zero()
                );
                if sum.meta & FAST == 0 {
                    wide += 1;
                }
            }
        }
        assert!(
            wide > 1000 && fast_steps > 10_000 && other_scale > 5_000,
            "{wide} {fast_steps} {other_scale}"
        );
    }

    /// A wide sum of scale 0 (its `meta` is a positive `Decimal`'s flags: 0) plus an amount
    /// beyond 63 bits: `Decimal` addition, not the integer step (the case the run above found).
    #[test]
    fn wide_sum_and_wide_amount_go_through_decimal() {
        let a = Decimal::from_parts(4_033_514_329, 2_015_314_551, 0x781F_93E2, false, 0);
        let b = Decimal::from_parts(0, 1 << 31, 0, false, 2);
        for subtract in [false, true] {
            let mut s = DecimalSum::of(a);
            s.add_term(&Term::of(b), subtract);
            let want = if subtract { a - b } else { a + b };
            assert_eq!(s.get().serialize(), want.serialize(), "{subtract}");
        }
    }

    /// `add_exact`/`sub_exact` give rust_decimal's result bit for bit wherever it has one.
    #[test]
    fn the_zero_term_is_term_of_zero() {
        let (z, of) = (Term::ZERO, Term::of(Decimal::ZERO));
        assert_eq!(
            (z.key, z.m, z.d.serialize()),
            (of.key, of.m, of.d.serialize())
        );
    }

    /// `Term::of_times` is `Term::of` of `Money::times`, field by field: zero, 32-, 64- and
    /// 96-bit amounts of both signs and every scale, zero and large quantities, products on
    /// both sides of 2^63.
    #[test]
    fn times_term_is_term_of_times() {
        use rand::{Rng, RngExt, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(17);
        let fields = |t: Term| (t.key, t.m, t.d.serialize());
        for _ in 0..100_000 {
            let m: u128 = match rng.random_range(0..5) {
                0 => [0u128, 1, u32::MAX as u128][rng.random_range(0..3)],
                1 => u128::from(rng.next_u32() % 100_000),
                2 => u128::from(rng.next_u32()),
                3 => u128::from(rng.next_u64()),
                _ => u128::from(rng.next_u64()) | (u128::from(rng.next_u32()) << 64),
            };
            let mut a = from_mantissa(m, rng.random_bool(0.3), rng.random_range(0..=28));
            if m == 0 && rng.random_bool(0.5) {
                a.set_sign_negative(true);
            }
            let n = match rng.random_range(0..4) {
                0 => [0, 1, u32::MAX][rng.random_range(0..3)],
                1 => rng.random_range(1..10),
                _ => rng.next_u32(),
            };
            if a.checked_mul(Decimal::from(n)).is_none() {
                continue;
            }
            assert_eq!(
                fields(Term::of_times(a, n)),
                fields(Term::of(Money(a).times(n).0)),
                "{a:?} × {n}"
            );
        }
    }

    fn assert_add_sub_match(a: Decimal, b: Decimal) {
        // `Term::of_sum` is `Term::of` of the exact sum, field by field.
        let fields = |t: Term| (t.key, t.m, t.d.serialize());
        if let Some(want) = a.checked_add(b) {
            assert_eq!(
                add_exact(a, b).serialize(),
                want.serialize(),
                "{a:?} + {b:?}"
            );
            assert_eq!(
                fields(Term::of_sum(a, b, false)),
                fields(Term::of(want)),
                "{a:?} + {b:?}"
            );
        }
        if let Some(want) = a.checked_sub(b) {
            assert_eq!(
                sub_exact(a, b).serialize(),
                want.serialize(),
                "{a:?} - {b:?}"
            );
            assert_eq!(
                fields(Term::of_sum(a, b, true)),
                fields(Term::of(want)),
                "{a:?} - {b:?}"
            );
        }
    }

    /// The zero short cut of `add_sub`: zeros of both signs and several scales on either side,
    /// against zeros and non-zero amounts of both signs, as `rust_decimal` computes them.
    #[test]
    fn exact_add_and_sub_of_zeros_match_rust_decimal() {
        let mut vals = Vec::new();
        for scale in [0, 2, 4, 28] {
            let zero = Decimal::new(0, scale);
            vals.extend([
                zero,
                -zero,
                Decimal::new(1234, scale),
                Decimal::new(-1234, scale),
            ]);
        }
        vals.push(Decimal::MAX);
        vals.push(Decimal::MIN);
        let zeros = vals.iter().filter(|d| d.is_zero()).count();
        assert_eq!(zeros, 8);
        assert!(vals.iter().any(|d| d.is_zero() && d.is_sign_negative()));
        for &a in &vals {
            for &b in &vals {
                assert_add_sub_match(a, b);
            }
        }
    }

    /// The rounding with mode number `mode` (0–3: half-up, half-even, down, up) and
    /// `minor_unit` decimals, for the property tests.
    fn rounding(mode: usize, minor_unit: u32) -> Rounding {
        let modes = [
            RoundingMode::HalfUp,
            RoundingMode::HalfEven,
            RoundingMode::Down,
            RoundingMode::Up,
        ];
        Rounding {
            mode: modes[mode],
            minor_unit,
        }
    }

    fn m(s: &str) -> Money {
        s.parse().unwrap()
    }
    fn r(s: &str) -> Rate {
        s.parse().unwrap()
    }

    #[test]
    fn rates_parse_only_with_percent_sign() {
        assert_eq!(r("10%").percent(), Decimal::from(10));
        assert_eq!(r(" 12.5% ").to_string(), "12.5%");
        assert!("10".parse::<Rate>().is_err());
        assert!("ten%".parse::<Rate>().is_err());
    }

    #[test]
    fn percent_f64_is_what_parsing_the_text_gives() {
        for t in [
            "10%", "12.5%", "0.01%", "80%", "12.30%", "33.33%", "7.07%", "0%",
        ] {
            let rate = r(t);
            let text = rate.to_string();
            let parsed: f64 = text.trim_end_matches('%').parse().unwrap();
            assert_eq!(rate.percent_f64().to_bits(), parsed.to_bits(), "{t}");
        }
        assert_eq!(r("12.5%").percent_f64(), 12.5);
        // the widest decimal fits the stack buffer
        assert_eq!(Rate(Decimal::MAX).percent_f64(), 7.922816251426434e28);
    }

    proptest::proptest! {
        /// The text-free fast path gives the same bits as formatting and parsing, for any
        /// mantissa (inside and outside 53 bits), scale and sign.
        #[test]
        fn percent_f64_fast_path_matches_the_text(
            m in proptest::prop_oneof![0i64..100_000, proptest::num::i64::ANY],
            scale in 0u32..=28,
        ) {
            let rate = Rate(Decimal::new(m, scale));
            proptest::prop_assert_eq!(
                rate.percent_f64().to_bits(),
                rate.percent_f64_text().to_bits(),
                "{}", rate
            );
        }
    }

    proptest::proptest! {
        /// Settlement's shortcut for a line with nothing refunded gives the bytes of the general
        /// commission with kept = total = base, for any base (zero and signed zeros included),
        /// rate, rounding mode and minor unit.
        #[test]
        fn commission_whole_is_commission_at_with_nothing_refunded(
            m in proptest::prop_oneof![0i64..10_000_000, proptest::num::i64::ANY],
            scale in 0u32..=6,
            rate in 0i64..=8_000,
            mode in 0usize..4,
            minor_unit in 0u32..=3,
        ) {
            let base = Money(Decimal::new(m, scale));
            let fraction = Rate(Decimal::new(rate, 2)).fraction();
            let rd = rounding(mode, minor_unit);
            proptest::prop_assert_eq!(
                rd.commission_whole(base, fraction).0.serialize(),
                rd.commission_at(base, fraction, base, base).0.serialize(),
                "{} at {}", base.0, fraction
            );
        }
    }

    proptest::proptest! {
        /// Settlement's commission prepared inside the multiply and the rounding is `Term::of`
        /// the commission, field by field and byte for byte: any base (zeros, signed zeros,
        /// 64-bit mantissas), any rate (zero, fractional), every rounding mode and minor unit,
        /// products from a few digits below the minor unit to more than 19 above it.
        #[test]
        fn commission_term_is_term_of_commission(
            m in proptest::prop_oneof![0i64..10_000_000, proptest::num::i64::ANY],
            scale in 0u32..=12,
            rate in proptest::prop_oneof![0i64..=8_000, -(1i64 << 33)..(1i64 << 33)],
            rate_scale in 0u32..=14,
            mode in 0usize..4,
            minor_unit in 0u32..=4,
        ) {
            let base = Money(Decimal::new(m, scale));
            let fraction = Decimal::new(rate, rate_scale);
            let rd = rounding(mode, minor_unit);
            let (got, want) = (
                rd.commission_whole_term(base, fraction),
                Term::of(rd.commission_whole(base, fraction).0),
            );
            proptest::prop_assert_eq!(
                (got.key, got.m, got.d.serialize()),
                (want.key, want.m, want.d.serialize()),
                "{} at {}", base.0, fraction
            );
        }
    }

    #[test]
    fn affiliate_rate_bounds_and_steps() {
        assert!(r("1%").check_affiliate().is_ok());
        assert!(r("80%").check_affiliate().is_ok());
        let rule = |x: &str| r(x).check_affiliate().unwrap_err().rule();
        assert_eq!(rule("0.99%"), Some(RuleId::Rate1));
        assert_eq!(rule("85%"), Some(RuleId::Rate1));
        assert_eq!(rule("10.005%"), Some(RuleId::H3));
        let e = r("10.005%").check_affiliate().unwrap_err();
        assert!(e.to_string().contains("H-3"), "{e}");
    }

    #[test]
    fn rounding_modes_differ_at_the_midpoint() {
        let base = m("0.25"); // 0.25 × 10% = 0.025
        let all = m("1");
        let at = |mode| {
            Rounding {
                mode,
                minor_unit: 2,
            }
            .commission(base, r("10%"), all, all)
        };
        assert_eq!(at(RoundingMode::HalfUp), m("0.03"));
        assert_eq!(at(RoundingMode::HalfEven), m("0.02"));
        assert_eq!(at(RoundingMode::Down), m("0.02"));
        assert_eq!(at(RoundingMode::Up), m("0.03"));
    }

    #[test]
    fn pro_rata_commission_rounds_once() {
        let rd = Rounding {
            mode: RoundingMode::HalfUp,
            minor_unit: 0,
        };
        // 100000 × 10% = 10000; two thirds kept = 6666.67 → 6667
        assert_eq!(
            rd.commission(m("100000"), r("10%"), m("2"), m("3")),
            m("6667")
        );
        assert_eq!(
            rd.commission(m("100000"), r("10%"), Money::ZERO, m("3")),
            Money::ZERO
        );
    }

    #[test]
    fn money_rejects_floats_in_toml() {
        #[derive(Deserialize)]
        struct T {
            #[allow(dead_code)]
            price: Money,
        }
        let e = toml::from_str::<T>("price = 19.99")
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("quoted string"), "{e}");
        assert!(toml::from_str::<T>("price = \"19.99\"").is_ok());
    }
}

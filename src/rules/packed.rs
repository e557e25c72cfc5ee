//! `Packed`: a decimal amount in 4 bytes, exactly — for the amounts of the millions of order
//! lines in flight (16 bytes each as `rust_decimal::Decimal`).
//!
//! A `Decimal` is a sign bit, a scale (0–28) and a 96-bit magnitude. The amounts of an order
//! line are small magnitudes (a price times a quantity, in minor units), so the sign, the scale
//! and a magnitude below 2^26 fit in a `u32`: the magnitude in bits 0–25, the scale in bits
//! 26–30, the sign in bit 31. That is 671,088.63 at two decimals, 67,108,863 at none. The sign
//! bit and the scale are kept as they are — a negative zero stays a negative zero, `10.50` stays
//! `10.50` and not `10.5` — so unpacking gives back the very same `Decimal` (its bytes), and
//! every result computed from it is unchanged. An amount that does not fit (a magnitude of 2^26
//! or more) is not packed: `pack` says so and the caller keeps it elsewhere (`OrderBook` keeps
//! such a line's amounts whole in a side table).

use rust_decimal::Decimal;

use crate::money::Money;

/// An amount packed into 4 bytes (see the module documentation).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Packed(u32);

const MAGNITUDE_BITS: u32 = 26;
const SCALE_SHIFT: u32 = 26;
const SIGN_BIT: u32 = 1 << 31;

impl Packed {
    /// Stands for an amount kept elsewhere (scale 31, which `pack` never writes: scales are
    /// 0–28).
    pub const WIDE: Packed = Packed(u32::MAX);
    /// `Money::ZERO` (positive, scale 0) packed.
    pub const ZERO: Packed = Packed(0);

    /// The packed form of `m`, if its magnitude is below 2^26.
    #[inline]
    pub fn pack(m: Money) -> Option<Packed> {
        let u = m.0.unpack();
        if u.hi != 0 || u.mid != 0 || u.lo >> MAGNITUDE_BITS != 0 {
            return None;
        }
        let sign = if u.negative { SIGN_BIT } else { 0 };
        Some(Packed(u.lo | (u.scale << SCALE_SHIFT) | sign))
    }

    /// `self + o` as `Decimal` addition gives it, when both are non-negative and of one scale
    /// and the sum fits and is not zero: the magnitudes added, the scale kept (else `None`; the
    /// caller adds the `Decimal`s). A fast path for what escrow holds for an order line.
    #[inline]
    pub fn add_same_scale(self, o: Packed) -> Option<Packed> {
        const MAGNITUDE: u32 = (1 << MAGNITUDE_BITS) - 1;
        // WIDE has the sign bit set, so it never takes this path.
        if (self.0 | o.0) & SIGN_BIT != 0 || (self.0 ^ o.0) >> SCALE_SHIFT != 0 {
            return None;
        }
        let m = (self.0 & MAGNITUDE) + (o.0 & MAGNITUDE);
        // A zero sum is left to `Decimal`, whose zeros keep or drop scales their own way.
        (m != 0 && m >> MAGNITUDE_BITS == 0).then_some(Packed(m | (self.0 & !MAGNITUDE)))
    }

    /// `self + Money::ZERO` as `Decimal` addition gives it when `self` is not zero: `self`
    /// (else `None`).
    #[inline]
    pub fn nonzero_with_zero(self) -> Option<Packed> {
        (self != Packed::WIDE && self.0 & ((1 << MAGNITUDE_BITS) - 1) != 0).then_some(self)
    }

    /// The amount, bit for bit as it was packed. Not for [`Packed::WIDE`].
    #[inline]
    pub fn unpack(self) -> Money {
        debug_assert!(self != Packed::WIDE);
        let v = self.0;
        let scale = (v >> SCALE_SHIFT) & 0x1f;
        let lo = v & ((1 << MAGNITUDE_BITS) - 1);
        // `from_parts` drops the sign of a zero; setting the sign bit afterwards keeps it, so a
        // negative zero comes back as one.
        let mut d = Decimal::from_parts(lo, 0, 0, false, scale);
        if v & SIGN_BIT != 0 {
            d.set_sign_negative(true);
        }
        Money(d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every amount that packs unpacks to the same bytes: zeros of either sign at every scale,
    /// magnitudes up to the limit, both signs, every scale; and the first magnitude beyond the
    /// limit does not pack.
    #[test]
    fn packing_keeps_the_exact_decimal() {
        let mut tried = 0;
        for scale in 0..=28u32 {
            for m in [0u64, 1, 7, 99, 1999, 65_535, 1 << 25, (1 << 26) - 1] {
                for negative in [false, true] {
                    let mut d = Decimal::from_parts(m as u32, (m >> 32) as u32, 0, negative, scale);
                    if m == 0 && negative {
                        d = -d; // from_parts drops the sign of a zero; negation keeps it
                        assert!(d.is_sign_negative());
                    }
                    let p = Packed::pack(Money(d)).expect("fits");
                    assert_ne!(p, Packed::WIDE);
                    assert_eq!(p.unpack().0.serialize(), d.serialize(), "{d:?}");
                    tried += 1;
                }
            }
        }
        assert_eq!(tried, 29 * 8 * 2);
        let big = Decimal::from_parts(1 << 26, 0, 0, false, 2);
        assert!(Packed::pack(Money(big)).is_none());
        let bigger = Decimal::from_parts(0, 1, 0, false, 2);
        assert!(Packed::pack(Money(bigger)).is_none());
        assert!(Packed::pack(Money(Decimal::MAX)).is_none());
        assert_eq!(Packed::pack(Money::ZERO), Some(Packed::ZERO));
        // The fast sum is `Decimal` addition, bytes and all (and adding `Money::ZERO` keeps a
        // non-zero amount's bytes — not a zero's: 0.00 + 0 is 0), or declines.
        let amounts = [
            "0",
            "0.00",
            "1.50",
            "1.5",
            "20.00",
            "-0.00",
            "-1.50",
            "671088.62",
            "0.01",
        ];
        for a in amounts {
            for b in amounts {
                let (x, y): (Money, Money) = (a.parse().unwrap(), b.parse().unwrap());
                let (px, py) = (Packed::pack(x).unwrap(), Packed::pack(y).unwrap());
                let sum = x + y;
                if !sum.0.is_zero() {
                    assert_eq!((sum + Money::ZERO).0.serialize(), sum.0.serialize());
                }
                match px.nonzero_with_zero() {
                    Some(p) => {
                        assert_eq!(p.unpack().0.serialize(), (x + Money::ZERO).0.serialize())
                    }
                    None => assert!(x.0.is_zero(), "{a}"),
                }
                match px.add_same_scale(py) {
                    Some(p) => assert_eq!(p.unpack().0.serialize(), sum.0.serialize(), "{a}+{b}"),
                    None => assert!(
                        x.0.is_sign_negative()
                            || y.0.is_sign_negative()
                            || x.0.scale() != y.0.scale()
                            || sum.0.is_zero()
                            || Packed::pack(sum).is_none(),
                        "{a}+{b}"
                    ),
                }
            }
        }
        assert_eq!(Packed::WIDE.add_same_scale(Packed::ZERO), None);
        let s: Money = "12.30".parse().unwrap();
        assert_eq!(Packed::pack(s).unwrap().unpack().0.to_string(), "12.30");
    }
}

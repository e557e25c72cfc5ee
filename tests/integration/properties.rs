//! Properties through the library: scripted single-order scenarios built as TOML text, run, and
//! compared with an independent integer oracle for MONEY-1 half-up rounding.

use std::collections::HashMap;

use proptest::prelude::*;
use rust_decimal::Decimal;

use affsim::metrics::{EndMetric, Metric};
use affsim::money::Rate;
use affsim::rules::ledger::Account;
use affsim::rules::orders::{OrderRecord, Status};
use affsim::scenario::Scenario;
use affsim::sim::{Replication, RunOptions, run_replication};

use crate::util::*;

/// (region, decimals of its currency)
fn region() -> impl Strategy<Value = (&'static str, u32)> {
    prop_oneof![Just(("ID", 0u32)), Just(("US", 2u32))]
}

fn rate_text(bp: u128) -> String {
    format!("{}%", minor_to_dec(bp, 2))
}

fn parse(text: &str) -> Scenario {
    affsim::scenario::parse("prop.toml", text).unwrap_or_else(|errs| {
        let msgs: Vec<String> = errs.iter().map(|e| e.to_string()).collect();
        panic!(
            "the generated scenario is invalid:\n{}\n---\n{text}",
            msgs.join("\n")
        )
    })
}

fn run(sc: &Scenario) -> Replication {
    let opts = RunOptions {
        record_ledger: true,
        track: Vec::new(),
        ..Default::default()
    };
    run_replication(sc, 0, &opts).unwrap_or_else(|e| panic!("the ledger must balance: {e}"))
}

fn record(r: &Replication) -> &OrderRecord {
    match &r.scripted[0] {
        Ok(rec) => rec,
        Err(refusal) => panic!("the scripted order was refused: {refusal:?}"),
    }
}

fn balances(r: &Replication) -> HashMap<Account, Decimal> {
    let mut b: HashMap<Account, Decimal> = HashMap::new();
    for e in &r.entries {
        *b.entry(e.from).or_default() -= e.amount.0;
        *b.entry(e.to).or_default() += e.amount.0;
    }
    b
}

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        // failures are reported in the test output; no regression files in the source tree
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config(64))]

    /// An Open order settles with commission = round_half_up(price × quantity × rate), the
    /// creator is paid exactly that, the seller the rest, and nothing stays in escrow.
    #[test]
    fn open_commission_is_price_times_quantity_times_rate(
        (region, minor) in region(),
        price in 1u128..=2_000_000,
        quantity in 1u32..=40,
        bp in 100u128..=8000,
    ) {
        let text = SingleOrder {
            name: "prop-open",
            region,
            price: &minor_to_text(price, minor),
            rate: &rate_text(bp),
            quantity,
            seller_coupon: None,
            refund: None,
            expect: "",
        }
        .toml();
        let sc = parse(&text);
        let r = run(&sc);
        let rec = record(&r);
        let gross = price * u128::from(quantity);
        let commission = div_round_half_up(gross * bp, 10_000);
        let want = minor_to_dec(commission, minor);

        prop_assert_eq!(rec.status, Status::Settled);
        prop_assert_eq!(rec.rate, Some(rate_text(bp).parse::<Rate>().unwrap()));
        prop_assert_eq!(rec.commission.0, want);
        prop_assert_eq!(rec.gross.0, minor_to_dec(gross, minor));
        prop_assert_eq!(r.total(Metric::Gmv), minor_to_dec(gross, minor));
        prop_assert_eq!(r.total(Metric::Commissions), want);
        prop_assert_eq!(r.total(Metric::SellerRevenue), minor_to_dec(gross - commission, minor));
        prop_assert_eq!(r.total(Metric::OrdersSettled), Decimal::ONE);
        let b = balances(&r);
        prop_assert_eq!(b.get(&Account::Creator(0)).copied().unwrap_or_default(), want);
        prop_assert_eq!(
            b.get(&Account::Seller(0)).copied().unwrap_or_default(),
            minor_to_dec(gross - commission, minor)
        );
        prop_assert_eq!(b.get(&Account::Escrow).copied().unwrap_or_default(), Decimal::ZERO);
        prop_assert_eq!(
            b.get(&Account::Buyers).copied().unwrap_or_default(),
            -minor_to_dec(gross, minor)
        );
        prop_assert_eq!(r.end_metric(EndMetric::SellerNet), minor_to_dec(gross - commission, minor));
    }

    /// A refund of any amount up to what the buyer paid leaves the commission pro rata:
    /// round_half_up(base × rate × (paid − refund) / paid), with base = price × quantity −
    /// seller coupon.
    #[test]
    fn refund_leaves_a_pro_rata_commission(
        (region, minor) in region(),
        price in 1u128..=2_000_000,
        quantity in 1u32..=10,
        bp in 100u128..=8000,
        coupon_raw in any::<u64>(),
        use_coupon in any::<bool>(),
        refund_raw in any::<u64>(),
    ) {
        let gross = price * u128::from(quantity);
        let coupon = if use_coupon { u128::from(coupon_raw) % gross } else { 0 };
        let paid = gross - coupon;
        let refund = 1 + u128::from(refund_raw) % paid;
        let coupon_text = minor_to_text(coupon, minor);
        let text = SingleOrder {
            name: "prop-refund",
            region,
            price: &minor_to_text(price, minor),
            rate: &rate_text(bp),
            quantity,
            seller_coupon: use_coupon.then_some(coupon_text.as_str()),
            refund: Some(&minor_to_text(refund, minor)),
            expect: "",
        }
        .toml();
        let sc = parse(&text);
        let r = run(&sc);
        let rec = record(&r);
        let base = paid;
        let kept = paid - refund;
        let commission = div_round_half_up(base * bp * kept, 10_000 * paid);
        let want = minor_to_dec(commission, minor);

        prop_assert!(r.refusals.is_empty(), "refusals: {:?}", r.refusals);
        prop_assert_eq!(rec.status, Status::Settled);
        prop_assert_eq!(rec.base.0, minor_to_dec(base, minor));
        prop_assert_eq!(rec.refunded.0, minor_to_dec(refund, minor));
        prop_assert_eq!(rec.commission.0, want);
        prop_assert_eq!(r.total(Metric::Refunds), minor_to_dec(refund, minor));
        prop_assert_eq!(r.total(Metric::Commissions), want);
        prop_assert_eq!(
            r.total(Metric::SellerRevenue),
            minor_to_dec(paid - refund - commission, minor)
        );
        let (full, partial) = if refund == paid { (1, 0) } else { (0, 1) };
        prop_assert_eq!(r.total(Metric::OrdersRefunded), Decimal::from(full));
        prop_assert_eq!(r.total(Metric::OrdersPartiallyRefunded), Decimal::from(partial));
        let b = balances(&r);
        prop_assert_eq!(b.get(&Account::Escrow).copied().unwrap_or_default(), Decimal::ZERO);
        prop_assert_eq!(b.get(&Account::Creator(0)).copied().unwrap_or_default(), want);
        prop_assert_eq!(
            b.get(&Account::Buyers).copied().unwrap_or_default(),
            -minor_to_dec(kept, minor),
            "buyers are out of pocket what they kept"
        );
    }
}

proptest! {
    #![proptest_config(config(256))]

    /// RATE-1 and H-3 through validation: a rate is accepted iff it is within 1 %–80 % in
    /// 0.01 % steps; a rejection names the rule and points at the rate.
    #[test]
    fn rates_are_validated(thousandths in 0u128..=100_000) {
        let rate = format!("{}%", minor_to_dec(thousandths, 3));
        let text = replace_once(MINIMAL, "id = \"s\"\n", &format!("id = \"s\"\nshop_plan_rate = \"{rate}\"\n"));
        let in_range = (1_000..=80_000).contains(&thousandths);
        let whole_step = thousandths % 10 == 0;
        match affsim::scenario::parse("rate.toml", &text) {
            Ok(sc) => {
                prop_assert!(in_range && whole_step, "{rate} was accepted");
                let want: Rate = rate.parse().unwrap();
                prop_assert_eq!(sc.named.sellers[0].shop_plan_rate, Some(want));
            }
            Err(errs) => {
                prop_assert!(!(in_range && whole_step), "{rate} was rejected: {:?}", errs);
                prop_assert_eq!(errs.len(), 1);
                let e = &errs[0];
                let want_rule = if in_range { "H-3" } else { "RATE-1" };
                prop_assert_eq!(e.rule.map(|r| r.as_str()), Some(want_rule), "{}", e);
                let (line, col) = line_col(&text, text.find(&format!("\"{rate}\"")).unwrap());
                prop_assert_eq!((e.line, e.column), (Some(line), Some(col)));
            }
        }
    }
}

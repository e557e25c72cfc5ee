//! Regression over many random streams of the built-in demo, through the library: every
//! replication completes with a balanced ledger and its figures satisfy identities that must
//! hold whatever the draws. A second test reconciles the recorded ledger order by order and
//! recomputes every commission with an independent integer oracle.

use std::collections::{BTreeMap, HashMap};

use rust_decimal::Decimal;

use affsim::experiment::{self, RunConfig};
use affsim::metrics::{EndMetric, Metric};
use affsim::money::{Money, Rate};
use affsim::rules::ledger::{Account, EntryKind};
use affsim::scenario::{Action, Scenario};
use affsim::sim::{Replication, RunOptions, run_replication};

use crate::util::*;

fn demo() -> Scenario {
    affsim::scenario::parse(affsim::scenario::DEMO_NAME, affsim::scenario::DEMO)
        .expect("the built-in demo validates")
}

/// The demo with only its Shop-plan and Open-plan market: Target invitations, distributor
/// campaigns and their scripted steps removed. Money then moves only through order lines,
/// commissions and platform coupons, which the exact identities below rely on.
fn core(mut sc: Scenario) -> Scenario {
    sc.invitations.clear();
    sc.campaigns.clear();
    sc.script.retain(|s| {
        matches!(
            s.action,
            Action::OpenRate { .. }
                | Action::ShopRate { .. }
                | Action::Apply { .. }
                | Action::ShowcaseAdd { .. }
                | Action::SampleRequest { .. }
                | Action::Post { .. }
                | Action::Order(_)
                | Action::Return { .. }
        )
    });
    sc
}

/// The highest affiliate rate any order line of `sc` could be paid at: every rate the file
/// names, and the top of every population range.
fn highest_rate(sc: &Scenario) -> Rate {
    let mut rates: Vec<Rate> = Vec::new();
    rates.extend(sc.named.sellers.iter().filter_map(|s| s.shop_plan_rate));
    for p in &sc.open_plans {
        rates.extend(p.listings.iter().map(|(_, r)| *r));
        rates.extend(p.shop_ads_rate);
    }
    if let Some(s) = &sc.populations.sellers {
        rates.push(s.shop_plan_rate.1);
        rates.push(s.open_rate.1);
    }
    for s in &sc.script {
        match s.action {
            Action::OpenRate { rate, .. } | Action::ShopRate { rate, .. } => rates.push(rate),
            _ => {}
        }
    }
    rates.into_iter().max().expect("the demo has rates")
}

/// The demo's money moves only through order lines, Shop/Open commissions and platform
/// coupons; the identities below rely on that, so check it rather than assume it.
fn assert_demo_shape(sc: &Scenario) {
    assert!(
        sc.drain,
        "the identities assume every line is closed by the end (drain)"
    );
    assert_eq!(
        sc.behaviour.buyers.shipping,
        Money::ZERO,
        "the identities assume no shipping (refund metrics count goods only)"
    );
    assert_eq!(sc.opts.rounding.minor_unit, 0, "IDR: whole amounts");
}

fn zero_flows(r: &Replication) {
    for m in [
        Metric::CommissionsClawedBack,
        Metric::DistributorFees,
        Metric::FlatFeesPaid,
        Metric::FlatFeesRefunded,
        Metric::RewardsPaid,
        Metric::RewardsCancelled,
        Metric::ServiceFeesCharged,
        Metric::ServiceFeesRefunded,
        Metric::SampleRefunds,
    ] {
        assert_eq!(
            r.total(m),
            Decimal::ZERO,
            "replication {}: the demo has no {} flows",
            r.index,
            m.name()
        );
    }
}

#[test]
fn demo_hundred_replications_reconcile() {
    let sc = core(demo());
    assert_demo_shape(&sc);
    let max_rate = highest_rate(&sc).fraction();
    let seller_coupon = sc.behaviour.buyers.seller_coupon.fraction();
    let out = experiment::run(
        &sc,
        &RunConfig {
            seed: Some(2024),
            replications: Some(100),
            ..Default::default()
        },
    )
    .unwrap_or_else(|e| panic!("a replication failed: {e}"));
    assert_eq!(out.replications.len(), 100);

    let mut failures = Vec::new();
    let mut gmvs = Vec::new();
    for r in &out.replications {
        let t = |m: Metric| r.total(m);
        let i = r.index;
        let mut check = |ok: bool, what: String| {
            if !ok {
                failures.push(format!("replication {i}: {what}"));
            }
        };
        zero_flows(r);
        let (gmv, orders) = (t(Metric::Gmv), t(Metric::Orders));
        let refunds = t(Metric::Refunds);
        let settled = t(Metric::OrdersSettled);
        let cancelled = t(Metric::OrdersCancelled);
        let commissions = t(Metric::Commissions) + t(Metric::ShopAdsCommissions);
        let platform_coupons = t(Metric::PlatformCoupons);
        let platform_net = r.end_metric(EndMetric::PlatformNet);
        let seller_net = r.end_metric(EndMetric::SellerNet);
        let pending = r.end_metric(EndMetric::CommissionsPending);
        gmvs.push(gmv);

        check(gmv > Decimal::ZERO, format!("gmv {gmv} > 0"));
        check(orders > Decimal::ZERO, format!("orders {orders} > 0"));
        check(t(Metric::Units) >= orders, "units ≥ orders".into());
        // every line placed is, after the drain, either settled or cancelled
        check(
            orders == settled + cancelled,
            format!("orders {orders} = settled {settled} + cancelled {cancelled}"),
        );
        check(
            pending.is_zero(),
            format!("commissions_pending {pending} = 0 after the drain"),
        );
        check(
            t(Metric::OrdersRefunded) + t(Metric::OrdersPartiallyRefunded) <= settled,
            "refunded lines are settled lines".into(),
        );
        check(
            refunds >= Decimal::ZERO && refunds <= gmv,
            format!("0 ≤ refunds {refunds} ≤ gmv {gmv}"),
        );
        check(
            commissions > Decimal::ZERO && t(Metric::SellerRevenue) > Decimal::ZERO,
            "commissions and seller revenue are paid".into(),
        );
        // no line pays more than the highest rate on what the buyer kept (+½ unit rounding)
        let cap = max_rate * (gmv - refunds) + settled / Decimal::TWO;
        check(
            commissions <= cap,
            format!("commissions {commissions} ≤ {max_rate} × (gmv − refunds) + rounding = {cap}"),
        );
        // the platform funds coupons and gets back the refunded share of them, nothing else
        check(
            -platform_coupons <= platform_net && platform_net <= Decimal::ZERO,
            format!("−platform_coupons {platform_coupons} ≤ platform_net {platform_net} ≤ 0"),
        );
        let coupon_returns = platform_net + platform_coupons;
        // Escrow: in = gmv − seller coupons (buyers pay after coupons, the platform tops up its
        // coupon); out = refunds + coupon returns + commissions + seller revenue; escrow ends
        // empty. So seller coupons = gmv − out, which is ≥ 0 and at most the coupon share of
        // gmv (plus ½ unit of rounding per line).
        let paid_out = refunds
            + coupon_returns
            + commissions
            + t(Metric::DistributorFees)
            + t(Metric::SellerRevenue);
        let seller_coupons = gmv - paid_out;
        let coupon_cap = seller_coupon * gmv + orders / Decimal::TWO;
        check(
            seller_coupons > Decimal::ZERO && seller_coupons <= coupon_cap,
            format!(
                "escrow: gmv {gmv} − paid out {paid_out} = {seller_coupons} must be the seller \
                 coupons, in (0, {coupon_cap}]"
            ),
        );
        // sellers receive revenue and pay nothing in the demo
        check(
            seller_net == t(Metric::SellerRevenue),
            format!(
                "seller_net {seller_net} = seller_revenue {}",
                t(Metric::SellerRevenue)
            ),
        );
        // the daily flows add up to the totals
        for &m in Metric::ALL {
            let sum: Decimal = r.daily.iter().map(|d| d[m as usize]).sum();
            check(
                sum == t(m),
                format!("Σ daily {} = {sum}, total {}", m.name(), t(m)),
            );
        }
        check(
            r.daily.len() >= sc.days as usize,
            format!("{} daily rows for {} days", r.daily.len(), sc.days),
        );
    }
    gmvs.sort();
    gmvs.dedup();
    assert!(
        gmvs.len() >= 95,
        "100 replications should give (almost) 100 different markets, got {} distinct GMVs",
        gmvs.len()
    );
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// The demo without seller coupons: then what buyers and the platform put into escrow is exactly
/// the GMV, and escrow ends empty, so GMV = refunds + coupon returns + commissions + distributor
/// fees + seller revenue, to the unit.
#[test]
fn demo_without_seller_coupons_pays_out_exactly_the_gmv() {
    let text = replace_once(
        affsim::scenario::DEMO,
        "seller_coupon_probability = 0.1",
        "seller_coupon_probability = 0.0",
    );
    let sc = core(affsim::scenario::parse("demo-no-seller-coupons", &text).expect("valid"));
    assert_demo_shape(&sc);
    let out = experiment::run(
        &sc,
        &RunConfig {
            seed: Some(31),
            replications: Some(8),
            ..Default::default()
        },
    )
    .unwrap_or_else(|e| panic!("a replication failed: {e}"));
    for r in &out.replications {
        zero_flows(r);
        let t = |m: Metric| r.total(m);
        let coupon_returns = r.end_metric(EndMetric::PlatformNet) + t(Metric::PlatformCoupons);
        let paid_out = t(Metric::Refunds)
            + coupon_returns
            + t(Metric::Commissions)
            + t(Metric::ShopAdsCommissions)
            + t(Metric::DistributorFees)
            + t(Metric::SellerRevenue);
        assert!(
            t(Metric::PlatformCoupons) > Decimal::ZERO,
            "the platform still funds coupons"
        );
        assert_eq!(
            t(Metric::Gmv),
            paid_out,
            "replication {}: GMV vs what escrow paid out",
            r.index
        );
    }
}

/// Everything the ledger says about one order line.
#[derive(Default, Debug)]
struct Line {
    payment: Decimal,
    coupon: Decimal,
    refunded: Decimal,
    coupon_back: Decimal,
    commission: Decimal,
    commissions_posted: u32,
    revenue: Decimal,
    rate: Option<Rate>,
    escrow_in: Decimal,
    escrow_out: Decimal,
}

fn int(d: Decimal, what: &str) -> u128 {
    use rust_decimal::prelude::ToPrimitive;
    assert!(
        d >= Decimal::ZERO && d.fract().is_zero(),
        "{what} = {d} is a whole, non-negative amount"
    );
    u128::from(d.to_u64().expect("fits in u64"))
}

/// Basis points of a rate (0.01 % steps, H-3).
fn bp(r: Rate) -> u128 {
    int(r.percent() * Decimal::ONE_HUNDRED, "rate in basis points")
}

#[test]
fn demo_ledger_reconciles_order_by_order() {
    let mut sc = core(demo());
    assert_demo_shape(&sc);
    sc.seed = 77;
    let max_rate = highest_rate(&sc);
    let opts = RunOptions {
        record_ledger: true,
        track: Vec::new(),
        ..Default::default()
    };
    for index in 0..3 {
        let r = run_replication(&sc, index, &opts).unwrap_or_else(|e| panic!("{e}"));
        zero_flows(&r);
        assert_eq!(
            r.entries.len() as u64,
            r.ledger_entries,
            "every entry is recorded"
        );

        let mut lines: BTreeMap<u64, Line> = BTreeMap::new();
        let mut by_kind: BTreeMap<&str, Decimal> = BTreeMap::new();
        let mut balances: HashMap<Account, Decimal> = HashMap::new();
        let mut escrow = Decimal::ZERO;
        let mut last_seq = 0;
        for e in &r.entries {
            assert!(e.seq > last_seq, "entries in posting order");
            last_seq = e.seq;
            let a = e.amount.0;
            assert!(
                a > Decimal::ZERO,
                "entry #{} has a positive amount: {a}",
                e.seq
            );
            *by_kind.entry(e.kind.as_str()).or_default() += a;
            *balances.entry(e.from).or_default() -= a;
            *balances.entry(e.to).or_default() += a;
            if e.from == Account::Escrow {
                escrow -= a;
            }
            if e.to == Account::Escrow {
                escrow += a;
            }
            assert!(
                escrow >= Decimal::ZERO,
                "escrow below zero after entry #{}",
                e.seq
            );
            let Some(no) = e.prov.order else {
                assert!(
                    e.from != Account::Escrow && e.to != Account::Escrow,
                    "entry #{} moves escrow money without an order",
                    e.seq
                );
                continue;
            };
            let l = lines.entry(no).or_default();
            if e.from == Account::Escrow {
                l.escrow_out += a;
            }
            if e.to == Account::Escrow {
                l.escrow_in += a;
            }
            if let Some(rate) = e.prov.rate {
                assert!(
                    l.rate.is_none_or(|x| x == rate),
                    "order {no}: one rate for the whole line"
                );
                l.rate = Some(rate);
            }
            match e.kind {
                EntryKind::OrderPayment => {
                    assert_eq!((e.from, e.to), (Account::Buyers, Account::Escrow));
                    l.payment += a;
                }
                EntryKind::PlatformCoupon => {
                    assert_eq!((e.from, e.to), (Account::Platform, Account::Escrow));
                    l.coupon += a;
                }
                EntryKind::Refund => {
                    assert_eq!((e.from, e.to), (Account::Escrow, Account::Buyers));
                    l.refunded += a;
                }
                EntryKind::CouponReturn => {
                    assert_eq!((e.from, e.to), (Account::Escrow, Account::Platform));
                    l.coupon_back += a;
                }
                EntryKind::Commission | EntryKind::ShopAdsCommission => {
                    assert!(matches!(
                        (e.from, e.to),
                        (Account::Escrow, Account::Creator(_))
                    ));
                    l.commission += a;
                    l.commissions_posted += 1;
                }
                EntryKind::SellerRevenue => {
                    assert!(matches!(
                        (e.from, e.to),
                        (Account::Escrow, Account::Seller(_))
                    ));
                    l.revenue += a;
                }
                k => panic!("order {no}: unexpected {} entry in the demo", k.as_str()),
            }
        }
        let total = |k: &str| by_kind.get(k).copied().unwrap_or_default();
        let t = |m: Metric| r.total(m);
        let ctx = format!("replication {index}");

        // the ledger's totals by kind are the reported metrics
        assert_eq!(total("commission"), t(Metric::Commissions), "{ctx}");
        assert_eq!(
            total("shop-ads-commission"),
            t(Metric::ShopAdsCommissions),
            "{ctx}"
        );
        assert_eq!(total("seller-revenue"), t(Metric::SellerRevenue), "{ctx}");
        assert_eq!(
            total("platform-coupon"),
            t(Metric::PlatformCoupons),
            "{ctx}"
        );
        assert_eq!(
            total("refund"),
            t(Metric::Refunds),
            "{ctx}: refunds are goods refunded (no shipping)"
        );
        assert_eq!(
            escrow,
            Decimal::ZERO,
            "{ctx}: escrow is empty after the drain"
        );
        assert_eq!(
            balances
                .get(&Account::Platform)
                .copied()
                .unwrap_or_default(),
            r.end_metric(EndMetric::PlatformNet),
            "{ctx}: platform_net"
        );
        let sellers: Decimal = balances
            .iter()
            .filter(|(a, _)| matches!(a, Account::Seller(_)))
            .map(|(_, b)| *b)
            .sum();
        assert_eq!(
            sellers,
            r.end_metric(EndMetric::SellerNet),
            "{ctx}: seller_net"
        );
        assert_eq!(
            balances.values().copied().sum::<Decimal>(),
            Decimal::ZERO,
            "{ctx}: double entry"
        );
        let paid_orders = lines.values().filter(|l| !l.payment.is_zero()).count();
        assert_eq!(
            Decimal::from(paid_orders as u64),
            t(Metric::Orders),
            "{ctx}: one payment per order"
        );

        // order by order
        let mut failures = Vec::new();
        for (no, l) in &lines {
            let mut fail =
                |what: String| failures.push(format!("{ctx}, order {no}: {what} — {l:?}"));
            if l.escrow_in != l.escrow_out {
                fail(format!("escrow in {} ≠ out {}", l.escrow_in, l.escrow_out));
            }
            if l.refunded > l.payment {
                fail("refunded more than was paid".into());
            }
            if l.coupon_back > l.coupon {
                fail("returned more coupon than the platform put in".into());
            }
            if l.refunded == l.payment && l.coupon_back != l.coupon {
                fail("a fully refunded line returns the whole platform coupon".into());
            }
            if l.commissions_posted > 1 {
                fail(format!("{} commission entries", l.commissions_posted));
            }
            let expected = match l.rate {
                None => 0,
                Some(rate) => {
                    if rate > max_rate || rate.percent() < Decimal::ONE {
                        fail(format!("rate {rate} outside 1%..{max_rate}"));
                    }
                    // round_half_up(base × rate × kept / paid), base = paid = payment
                    let paid = int(l.payment, "payment");
                    let kept = int(l.payment - l.refunded, "kept");
                    if paid == 0 {
                        0
                    } else {
                        div_round_half_up(paid * bp(rate) * kept, 10_000 * paid)
                    }
                }
            };
            if int(l.commission, "commission") != expected {
                fail(format!("commission {} ≠ expected {expected}", l.commission));
            }
        }
        assert!(
            failures.is_empty(),
            "{} of {} orders do not reconcile:\n{}",
            failures.len(),
            lines.len(),
            failures
                .iter()
                .take(20)
                .cloned()
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
}

/// Each step of a scripted order's life is one event: the application, the order, the return,
/// shipping, delivery and settlement — six. (`events` is reported in `summary.json` and drives
/// the events/s figure.)
#[test]
fn a_scripted_order_is_one_event_per_step() {
    let text = SingleOrder {
        name: "steps",
        region: "ID",
        price: "100000",
        rate: "10%",
        quantity: 1,
        seller_coupon: None,
        refund: Some("25000"),
        expect: "",
    }
    .toml();
    let sc = affsim::scenario::parse("steps.toml", &text).expect("valid");
    assert_eq!(sc.script.len(), 3, "application, order, return");
    let r = run_replication(&sc, 0, &RunOptions::default()).expect("runs");
    let rec = r.scripted[0].as_ref().expect("placed");
    assert_eq!(rec.status, affsim::rules::orders::Status::Settled);
    // 100000 × 10 % × 75000 / 100000 = 7500
    assert_eq!(rec.commission, Money::new(Decimal::from(7500)));
    assert_eq!(
        r.events, 6,
        "3 scripted events + ship + deliver + settle; more means an event was queued twice"
    );
}

/// The whole demo — Shop plan, Open, Target, distributor campaign — over 100 seeds: every
/// replication completes, which means its ledger balanced (MONEY-2: a run whose ledger does not
/// balance is an error), and the identities that hold for every plan hold.
#[test]
fn full_demo_hundred_seeds_balance() {
    let sc = demo();
    let out = experiment::run(
        &sc,
        &RunConfig {
            seed: Some(99),
            replications: Some(100),
            ..Default::default()
        },
    )
    .unwrap_or_else(|e| panic!("a replication's ledger did not balance: {e}"));
    assert_eq!(out.replications.len(), 100);
    for r in &out.replications {
        let t = |m: Metric| r.total(m);
        assert_eq!(
            t(Metric::Orders),
            t(Metric::OrdersSettled) + t(Metric::OrdersCancelled),
            "replication {}: every line settles or is cancelled after the drain",
            r.index
        );
        assert!(r.end_metric(EndMetric::CommissionsPending).is_zero());
        assert!(t(Metric::Refunds) <= t(Metric::Gmv));
        let by_source = t(Metric::GmvShop)
            + t(Metric::GmvOpen)
            + t(Metric::GmvTarget)
            + t(Metric::GmvPlus)
            + t(Metric::GmvDistributor)
            + t(Metric::GmvUnattributed);
        assert_eq!(
            by_source,
            t(Metric::Gmv),
            "replication {}: GMV by source adds up",
            r.index
        );
        assert!(
            t(Metric::DistributorFees) > Decimal::ZERO,
            "the demo's distributor campaign pays fees"
        );
    }
}

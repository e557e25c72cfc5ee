//! Builds one replication's agents and plan books from the scenario: named agents, then
//! synthetic populations drawn from the population stream.

use rand::Rng;
use rand::seq::SliceRandom;
use rand_distr::Distribution;
use rand_distr::weighted::WeightedAliasIndex;
use rust_decimal::Decimal;
use rust_decimal::prelude::FromPrimitive;

use crate::model::{Agents, Creator, Distributor, Product, ProductId, Seller, SellerId};
use crate::money::{Money, Rate};
use crate::rules::ids::*;
use crate::rules::plans::{Books, OpenListing, OpenPlan, RateHistory};
use crate::scenario::dist::unit;
use crate::scenario::{Approval, Dist, Scenario};
use crate::time::SimTime;

/// The world a replication starts from.
pub struct Built {
    pub agents: Agents,
    pub books: Books,
    /// Per Open plan: how its seller decides applications.
    pub(crate) approvals: Vec<Approval>,
    /// Per Open plan: the sample shipping delay (days), if it offers samples.
    pub(crate) sample_shipping: Vec<Option<Dist>>,
}

fn draw_rate<R: Rng + ?Sized>(rng: &mut R, (lo, hi): (Rate, Rate)) -> Rate {
    // uniform over the 0.01% steps in [lo, hi], as a fraction of the range (the draw × the
    // number of steps ÷ 2^64, exact): a seller keeps its position in a scaled range, so the
    // arms of a sweep or of `affsim sensitivity` that scale it scale each seller's rate alike
    let steps = ((hi.0 - lo.0) * Decimal::ONE_HUNDRED).trunc();
    let n: u64 = steps.try_into().unwrap_or(0);
    let k = if n == 0 {
        0
    } else {
        ((u128::from(rng.next_u64()) * u128::from(n + 1)) >> 64) as u64
    };
    Rate(lo.0 + Decimal::from(k) / Decimal::ONE_HUNDRED)
}

/// Builds agents and books for one replication.
pub fn build<R: Rng + ?Sized>(sc: &Scenario, rng: &mut R) -> Built {
    let mut agents = Agents::default();
    let mut books = Books {
        decrease_lock: sc.opts.decrease_lock,
        ad_precedence: sc.opts.ad_precedence,
        ended_plan_entry: sc.opts.ended_plan_entry,
        ..Books::default()
    };
    let mut approvals = Vec::new();
    let mut sample_shipping = Vec::new();

    for s in &sc.named.sellers {
        agents.sellers.push(Seller {
            plus_enabled: s.plus_enabled,
        });
        agents.names.sellers.push(s.name.clone());
        books
            .shop
            .push(s.shop_plan_rate.map(|r| RateHistory::new(SimTime::ZERO, r)));
    }
    for p in &sc.named.products {
        agents.products.push(Product {
            seller: p.seller,
            price: p.price,
            category: p.category,
            eligible: p.eligible,
            stock: p.stock,
            popularity: p.popularity,
        });
        agents.names.products.push(p.name.clone());
    }
    for c in &sc.named.creators {
        agents.creators.push(Creator {
            followers: c.followers,
            level: c.level,
            categories: c.categories,
            live: c.live,
            audience: c.audience,
        });
        agents.names.creators.push(c.name.clone());
    }
    for d in &sc.named.distributors {
        agents.distributors.push(Distributor {});
        agents.names.distributors.push(d.clone());
    }

    // Generated sellers: their plans are decided once their products exist.
    let first_gen_seller = agents.sellers.len();
    let mut gen_open: Vec<Option<Rate>> = Vec::new();
    if let Some(sp) = &sc.populations.sellers {
        for _ in 0..sp.count {
            agents.sellers.push(Seller {
                plus_enabled: unit(rng) < sp.plus_enabled_share,
            });
            let shop = (unit(rng) < sp.shop_plan_share).then(|| draw_rate(rng, sp.shop_plan_rate));
            books
                .shop
                .push(shop.map(|r| RateHistory::new(SimTime::ZERO, r)));
            gen_open.push((unit(rng) < sp.open_plan_share).then(|| draw_rate(rng, sp.open_rate)));
        }
    }
    if let Some(pp) = &sc.populations.products {
        let n_sellers = agents.sellers.len().max(1) as u64;
        let mut ranks: Vec<u32> = (1..=pp.count).collect();
        ranks.shuffle(rng);
        let minor = sc.region.minor_unit;
        for rank in ranks {
            let price = Decimal::from_f64(pp.price.sample(rng).min(1e15))
                .unwrap_or(Decimal::ONE)
                .round_dp(minor);
            let floor = Decimal::new(1, minor);
            let cat = pp.categories[(rng.next_u64() % pp.categories.len() as u64) as usize];
            agents.products.push(Product {
                seller: SellerId((rng.next_u64() % n_sellers) as u32),
                price: Money(price.max(floor)),
                category: cat,
                eligible: unit(rng) < pp.eligible_share,
                stock: pp.stock,
                popularity: 1.0 / f64::from(rank).powf(pp.zipf_exponent),
            });
        }
    }
    if let Some(cp) = &sc.populations.creators {
        let levels = WeightedAliasIndex::new(cp.level_weights.clone()).ok();
        let ncat = sc.categories.len().max(1) as u64;
        for _ in 0..cp.count {
            let followers = cp.followers.sample(rng).min(f64::from(u32::MAX)) as u32;
            let level = levels.as_ref().map_or(1, |l| l.sample(rng) as u8 + 1);
            let mut mask = 0u64;
            for _ in 0..cp.categories_per_creator {
                mask |= 1u64 << (rng.next_u64() % ncat);
            }
            let live = unit(rng) < cp.live_share;
            agents.creators.push(Creator {
                followers,
                level,
                categories: mask,
                live,
                // drawn later from the outreach stream when a Target policy needs it (TARGET-8)
                audience: crate::model::Audience::default(),
            });
        }
    }

    // Open plans: named, then one per generated seller that has one.
    books.open_by_product = vec![Default::default(); agents.products.len()];
    for (i, op) in sc.open_plans.iter().enumerate() {
        books.open_plans.push(OpenPlan {
            seller: op.seller,
            samples: op.samples.as_ref().map(|s| s.0.clone()),
        });
        approvals.push(op.approval.clone());
        sample_shipping.push(op.samples.as_ref().map(|s| s.1.clone()));
        for &(p, rate) in &op.listings {
            add_listing(
                &mut books,
                OpenPlanId::at(i),
                p,
                rate,
                op.shop_ads_rate,
                op.samples.as_ref().map_or(0, |s| s.0.quantity),
            );
        }
    }
    if let Some(sp) = &sc.populations.sellers {
        let mut plan_of_seller = vec![None; agents.sellers.len()];
        for (k, rate) in gen_open.iter().enumerate() {
            if let Some(rate) = rate {
                let seller = SellerId((first_gen_seller + k) as u32);
                let samples = (sp.open_samples > 0).then(|| crate::rules::plans::SampleTerms {
                    quantity: sp.open_samples,
                    ..Default::default()
                });
                books.open_plans.push(OpenPlan { seller, samples });
                approvals.push(sp.approval.clone());
                sample_shipping.push((sp.open_samples > 0).then(|| Dist::uniform(2.0, 5.0)));
                plan_of_seller[seller.idx()] =
                    Some((OpenPlanId::at(books.open_plans.len() - 1), *rate));
            }
        }
        let first_gen_product = sc.named.products.len();
        for pi in first_gen_product..agents.products.len() {
            let p = &agents.products[pi];
            if let (true, Some((plan, rate))) = (p.eligible, plan_of_seller[p.seller.idx()]) {
                add_listing(
                    &mut books,
                    plan,
                    ProductId(pi as u32),
                    rate,
                    None,
                    sp.open_samples,
                );
            }
        }
    }
    for inv in &sc.invitations {
        books.target.add(inv.clone());
    }
    for c in &sc.campaigns {
        books.dist.campaigns.push(c.campaign.clone());
    }
    books.plus.groups = sc.groups.clone();
    for c in &sc.plus {
        books.plus.add(c.clone());
    }
    Built {
        agents,
        books,
        approvals,
        sample_shipping,
    }
}

fn add_listing(
    books: &mut Books,
    plan: OpenPlanId,
    p: ProductId,
    rate: Rate,
    shop_ads: Option<Rate>,
    samples: u32,
) {
    books.open_listings.push(OpenListing {
        plan,
        product: p,
        rate: RateHistory::new(SimTime::ZERO, rate),
        shop_ads: shop_ads.map(|r| RateHistory::new(SimTime::ZERO, r)),
        samples_left: samples,
    });
    let id = ListingId::at(books.open_listings.len() - 1);
    books.open_by_product[p.idx()] =
        crate::rules::plans::ProductOpen::of(id, &books.open_listings[id.index()]);
}

//! Scripted rate changes of generated plans (`[[script.rate_changes]]` with `generated`, issue
//! 14): every generated Open plan, generated seller's Shop plan or policy-made Target invitation
//! (optionally only those with a product of a category), to a rate or by rate points, each
//! through the rule-checked change path of its plan; a plan the rules refuse is counted.

use super::World;
use crate::model::{ProductId, SellerId};
use crate::money::Rate;
use crate::rules::choices::ListingRate;
use crate::rules::ids::{InvitationId, ListingId, OpenPlanId};
use crate::scenario::{GeneratedKind, RateStep};
use crate::time::SimTime;

impl World<'_> {
    pub(super) fn generated_rate(
        &mut self,
        t: SimTime,
        kind: GeneratedKind,
        category: Option<u8>,
        change: RateStep,
        shop_ads: bool,
    ) {
        let in_cat = |w: &World, p: ProductId| {
            category.is_none_or(|c| w.agents.products[p.idx()].category == c)
        };
        match kind {
            GeneratedKind::Open => {
                let first = OpenPlanId::at(self.sc.open_plans.len());
                let listings: Vec<ListingId> = (0..self.pf.books().open_listings.len())
                    .map(ListingId::at)
                    .filter(|&l| {
                        let x = &self.pf.books().open_listings[l.index()];
                        x.plan >= first && in_cat(self, x.product)
                    })
                    .collect();
                for l in listings {
                    let books = self.pf.books();
                    let standard = books.open_listings[l.index()].rate.at(t).map(|x| x.0);
                    // a Shop Ads change starts from the Shop Ads rate, or the standard one
                    let current = if shop_ads {
                        books.open_shop_ads(l, t).map(|x| x.0).or(standard)
                    } else {
                        standard
                    };
                    let Some(r) = current else { continue };
                    let new = change.from(r);
                    match self.pf.check_rate(new) {
                        Ok(()) => {
                            self.change_listing_rate(l, new, ListingRate::shop_ads_if(shop_ads), t)
                        }
                        Err(e) => self.refuse(e),
                    }
                }
            }
            GeneratedKind::Shop => {
                let named = self.sc.named.sellers.len();
                let mut hit = vec![category.is_none(); self.agents.sellers.len()];
                if category.is_some() {
                    for p in 0..self.agents.products.len() as u32 {
                        let pr = &self.agents.products[p as usize];
                        if pr.eligible && in_cat(self, ProductId(p)) {
                            hit[pr.seller.idx()] = true;
                        }
                    }
                }
                for s in (named..self.agents.sellers.len()).filter(|&s| hit[s]) {
                    let seller = SellerId(s as u32);
                    let Some((r, _)) = self.pf.books().shop_rate(seller, t) else {
                        continue;
                    };
                    if let Err(e) = self.pf.change_shop_rate_checked(seller, change.from(r), t) {
                        self.refuse(e);
                    }
                }
            }
            GeneratedKind::Target => {
                let first = self.sc.invitations.len();
                let targets: Vec<(InvitationId, ProductId, Rate)> = self
                    .pf
                    .books()
                    .target
                    .invitations
                    .iter()
                    .enumerate()
                    .skip(first)
                    .filter(|(_, i)| i.sent <= t && t < i.ends)
                    .flat_map(|(n, i)| {
                        i.products
                            .iter()
                            .filter(|x| in_cat(self, x.product))
                            .map(move |x| (InvitationId::at(n), x.product, x.rate))
                    })
                    .collect();
                for (inv, product, r) in targets {
                    let new = change.from(r);
                    let res = self.pf.check_rate(new).and_then(|()| {
                        self.pf.change_target_rate(inv, Some(product), None, new, t)
                    });
                    if let Err(e) = res {
                        self.refuse(e);
                    }
                }
            }
        }
    }
}

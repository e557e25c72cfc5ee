//! Buyers' orchestration: a content item's next order (traffic, quantity, coupons), placed through
//! the `Platform`, then shipping, delivery and returns drawn from the logistics and buyer streams.

use super::queue::Phase;
use super::{Ev, World, behaviour};
use crate::model::{ContentKind, Traffic};
use crate::money::Money;
use crate::rules::ids::*;
use crate::rules::{Names2, OrderRequest};
use crate::scenario::dist::unit;
use crate::time::SimTime;

impl World<'_> {
    pub(super) fn demand(&mut self, t: SimTime, ci: u32) {
        let item = self.content[ci as usize];
        let bb = &self.sc.behaviour.buyers;
        if t < self.end {
            let r = &mut self.rng.buyers;
            let traffic = if unit(r) < bb.showcase_share {
                Traffic::Showcase
            } else if item.kind == ContentKind::Live {
                Traffic::Live
            } else if item.authorised && unit(r) < bb.ad_share {
                Traffic::Ad
            } else {
                Traffic::Video
            };
            let quantity = behaviour::quantity(&bb.quantity_weights, r);
            let price = self.agents.products[item.product.idx()]
                .price
                .times(quantity);
            let seller_coupon = if unit(r) < bb.seller_coupon_probability {
                self.pf.coupon_value(price, bb.seller_coupon)
            } else {
                Money::ZERO
            };
            let platform_coupon = if unit(r) < bb.platform_coupon_probability {
                self.pf
                    .coupon_value(price, bb.platform_coupon)
                    .min(price - seller_coupon)
            } else {
                Money::ZERO
            };
            let req = OrderRequest {
                creator: item.creator,
                product: item.product,
                quantity,
                traffic,
                authorised: item.authorised,
                // showcase orders come from the showcase, not from the video
                target_video: item
                    .video
                    .filter(|_| matches!(traffic, Traffic::Video | Traffic::Ad)),
                seller_coupon,
                platform_coupon,
                shipping: bb.shipping,
            };
            let track = (!self.track.is_empty()
                && self.track.contains(&(self.pf.orders().issued() + 1)))
            .then(|| {
                let no = self.pf.orders().issued() + 1;
                (
                    format!("#{no}"),
                    Names2 {
                        creator: self.agents.names.creator(item.creator),
                        product: self.agents.names.product(item.product),
                    },
                )
            });
            if let Ok(k) = self.pf.place_order(&self.agents, &req, t, track) {
                self.note_outreach(item.creator, item.product, super::target_policy::Seen::Sold);
                let ob = &self.sc.behaviour.orders;
                let lr = &mut self.rng.logistics;
                if unit(lr) < ob.cancel_probability {
                    let d = behaviour::delay(&ob.cancel_delay, lr);
                    self.q
                        .push(t.plus_minutes(d), Phase::AfterSales, Ev::Cancel(k));
                } else {
                    let d = behaviour::delay(&ob.ship_delay, lr);
                    self.q.push(
                        t.plus_minutes(d),
                        Phase::Logistics,
                        Ev::Ship {
                            key: k,
                            deliver: SimTime::NEVER,
                        },
                    );
                }
            }
        }
        let c = &mut self.content[ci as usize];
        c.remaining -= 1;
        if c.remaining == 0 || t >= self.end {
            if c.remaining == 0
                && let Some(x) = self.inc.memo.live_on_mut(c.product.idx())
            {
                *x = x.saturating_sub(1);
            }
            self.content_free.push(ci);
            return;
        }
        let (kind, remaining, elapsed) = (c.kind, c.remaining, t.since(c.posted));
        let gap = behaviour::next_order_gap(bb, kind, remaining, elapsed, &mut self.rng.buyers);
        self.q
            .push(t.plus_minutes(gap), Phase::Order, Ev::Demand(ci));
    }

    pub(super) fn deliver(&mut self, t: SimTime, k: LineKey) {
        if let Ok(settles) = self.pf.deliver(k, t) {
            let tracked = self.pf.orders().tracked(k);
            let ob = &self.sc.behaviour.orders;
            if !tracked && unit(&mut self.rng.buyers) < ob.return_probability {
                let window = settles.since(t).saturating_sub(1).max(1);
                let at = t.plus_minutes((unit(&mut self.rng.buyers) * f64::from(window)) as u32);
                let partial = unit(&mut self.rng.buyers) < ob.partial_return_share;
                let percent = if partial { 50 } else { 100 };
                self.q
                    .push(at, Phase::AfterSales, Ev::Return { key: k, percent });
            }
            if let Some(b) = self.settlements.add(settles, k) {
                self.q.push(settles, Phase::Settlement, Ev::SettleBatch(b));
            }
        }
    }
}

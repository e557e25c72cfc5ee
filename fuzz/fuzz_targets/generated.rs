//! Fuzz target: small scenarios generated from the input bytes (sellers, plans, creators, scripted orders, returns, rate changes, a Target invitation) run end to end under the invariants.
#![no_main]

use std::fmt::Write as _;

use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

/// Reads choices from the fuzzer's bytes; zeros once they run out.
struct Bytes<'a>(&'a [u8]);

impl Bytes<'_> {
    fn u8(&mut self) -> u8 {
        match self.0.split_first() {
            Some((b, rest)) => {
                self.0 = rest;
                *b
            }
            None => 0,
        }
    }
    fn u32(&mut self) -> u32 {
        u32::from_le_bytes([self.u8(), self.u8(), self.u8(), self.u8()])
    }
    /// A number in `lo..=hi`.
    fn range(&mut self, lo: u32, hi: u32) -> u32 {
        lo + self.u32() % (hi - lo + 1)
    }
    fn bool(&mut self) -> bool {
        self.u8() & 1 == 1
    }
    /// A rate in basis points, often at RATE-1's bounds.
    fn bp(&mut self) -> u32 {
        match self.u8() % 8 {
            0 => 100,
            1 => 8000,
            _ => self.range(100, 8000),
        }
    }
}

const DAY: u32 = 24 * 60;

fn at(m: u32) -> String {
    let (d, rest) = (m / DAY, m % DAY);
    // October has 31 days; the generator stays within 40 days of 1 October 2025
    let (month, day) = if d < 31 { (10, d + 1) } else { (11, d - 30) };
    format!("2025-{month:02}-{day:02} {:02}:{:02}", rest / 60, rest % 60)
}

fn rate(bp: u32) -> String {
    format!("{}.{:02}%", bp / 100, bp % 100)
}

fn money(minor: u32, us: bool) -> String {
    if us {
        format!("{}.{:02}", minor / 100, minor % 100)
    } else {
        minor.to_string()
    }
}

fn scenario(b: &mut Bytes) -> String {
    let mut t = String::new();
    let us = b.bool();
    let days = b.range(3, 20);
    let _ = write!(
        t,
        "[scenario]\nname = \"fuzz\"\nregion = \"{}\"\nstart = \"2025-10-01\"\ndays = {days}\nseed = {}\n\n\
         [rules]\nrounding = \"{}\"\nrefund_after_settlement = \"{}\"\ndrain = {}\nopen_decrease_lock = {}\n\n",
        if us { "US" } else { "ID" },
        b.u32(),
        ["half-up", "half-even", "down"][usize::from(b.u8() % 3)],
        ["keep", "claw-back", "refuse"][usize::from(b.u8() % 3)],
        b.bool(),
        b.bool(),
    );
    let ns = b.range(1, 3) as usize;
    let np = b.range(1, 5) as usize;
    let nc = b.range(1, 4) as usize;
    let mut open = vec![None; ns];
    for (s, o) in open.iter_mut().enumerate() {
        let _ = writeln!(t, "[[sellers]]\nid = \"s{s}\"");
        if b.bool() {
            let _ = writeln!(t, "shop_plan_rate = \"{}\"", rate(b.bp()));
        }
        t.push('\n');
        if b.u8() % 5 != 0 {
            *o = Some(b.bp());
        }
    }
    let seller_of = |p: usize| p % ns;
    let mut price = Vec::new();
    for p in 0..np {
        let pr = b.range(1, 200_000);
        price.push(pr);
        let _ = writeln!(
            t,
            "[[products]]\nid = \"p{p}\"\nseller = \"s{}\"\nprice = \"{}\"\n",
            seller_of(p),
            money(pr, us)
        );
    }
    for c in 0..nc {
        let _ = writeln!(
            t,
            "[[creators]]\nid = \"c{c}\"\nfollowers = {}\nlive = {}\n",
            b.range(0, 50_000),
            b.bool()
        );
    }
    for (s, o) in open.iter().enumerate() {
        let prods: Vec<String> = (0..np)
            .filter(|&p| seller_of(p) == s)
            .map(|p| format!("\"p{p}\""))
            .collect();
        if let (Some(r), false) = (o, prods.is_empty()) {
            let _ = writeln!(
                t,
                "[[open_plans]]\nid = \"open{s}\"\nseller = \"s{s}\"\nproducts = [{}]\nrate = \"{}\"",
                prods.join(", "),
                rate(*r)
            );
            if b.bool() {
                let _ = writeln!(t, "shop_ads_rate = \"{}\"", rate(b.bp()));
            }
            t.push('\n');
        }
    }
    if b.u8() % 3 == 0 {
        let _ = writeln!(
            t,
            "[populations.sellers]\ncount = {}\n\n[populations.products]\ncount = {}\n\
             price = {{ dist = \"lognormal\", median = 500.0, sigma = 0.8 }}\n\n\
             [populations.creators]\ncount = {}\nfollowers = {{ dist = \"lognormal\", median = 3000.0, sigma = 1.0 }}\n",
            b.range(0, 3),
            b.range(0, 10),
            b.range(0, 20)
        );
    }
    let _ = writeln!(
        t,
        "[behaviour.creators]\nactions_per_day = {}\n\n[behaviour.buyers]\nconversion_rate = {}\nad_share = {}\n\n\
         [behaviour.orders]\nreturn_probability = {}\n",
        f64::from(b.u8()) / 255.0,
        f64::from(b.u8()) / 255.0 * 0.02,
        f64::from(b.u8()) / 255.0 * 0.5,
        f64::from(b.u8()) / 255.0 * 0.3,
    );
    // a Target invitation from seller 0 to some creators
    let prods0: Vec<usize> = (0..np).filter(|&p| seller_of(p) == 0).collect();
    if b.bool() && !prods0.is_empty() {
        let creators: Vec<String> = (0..nc)
            .filter(|_| b.bool())
            .map(|c| format!("\"c{c}\""))
            .collect();
        if !creators.is_empty() {
            let list: Vec<String> = prods0
                .iter()
                .map(|p| format!("{{ product = \"p{p}\", rate = \"{}\" }}", rate(b.bp())))
                .collect();
            let _ = writeln!(
                t,
                "[[target_invitations]]\nid = \"inv\"\nseller = \"s0\"\ncreators = [{}]\nsent = \"{}\"\ndays = {}\n\
                 authorise_ads = {}\nproducts = [{}]\n",
                creators.join(", "),
                at(b.range(0, 10 * DAY)),
                b.range(1, 20),
                b.bool(),
                list.join(", ")
            );
        }
    }
    for _ in 0..b.range(0, 4) {
        let _ = writeln!(
            t,
            "[[script.applications]]\nat = \"{}\"\ncreator = \"c{}\"\nproduct = \"p{}\"\n",
            at(b.range(0, 15 * DAY)),
            b.u8() as usize % nc,
            b.u8() as usize % np
        );
    }
    for _ in 0..b.range(0, 3) {
        let s = b.u8() as usize % ns;
        let when = at(b.range(0, 15 * DAY));
        let r = rate(b.bp());
        if b.bool() {
            let _ = writeln!(
                t,
                "[[script.rate_changes]]\nat = \"{when}\"\nseller = \"s{s}\"\nrate = \"{r}\"\n"
            );
        } else if open[s].is_some() && (0..np).any(|p| seller_of(p) == s) {
            let _ = writeln!(
                t,
                "[[script.rate_changes]]\nat = \"{when}\"\nplan = \"open{s}\"\nrate = \"{r}\"\n"
            );
        }
    }
    let no = b.range(0, 6);
    let mut placed = Vec::new();
    for i in 0..no {
        let (c, p) = (b.u8() as usize % nc, b.u8() as usize % np);
        let when = b.range(0, 15 * DAY);
        let q = b.range(1, 4);
        let traffic = ["video", "showcase", "ad", "live"][usize::from(b.u8() % 4)];
        let _ = writeln!(
            t,
            "[[script.orders]]\nid = \"o{i}\"\nat = \"{}\"\ncreator = \"c{c}\"\nproduct = \"p{p}\"\nquantity = {q}\n\
             traffic = \"{traffic}\"\nauthorised = {}",
            at(when),
            traffic == "ad"
        );
        if b.bool() {
            let gross = price[p] * q;
            let _ = writeln!(
                t,
                "seller_coupon = \"{}\"",
                money(gross / b.range(2, 10), us)
            );
        }
        let (d1, d2) = (b.range(0, 3 * DAY), b.range(0, 4 * DAY));
        let cancelled = match b.u8() % 4 {
            1 => {
                let _ = writeln!(
                    t,
                    "shipped = \"{}\"\ndelivered = \"{}\"",
                    at(when + d1),
                    at(when + d1 + d2)
                );
                false
            }
            2 => {
                let _ = writeln!(t, "cancelled = \"{}\"", at(when + d1));
                true
            }
            _ => false,
        };
        t.push('\n');
        if !cancelled {
            placed.push((i, when, q));
        }
    }
    for _ in 0..b.range(0, 3) {
        if placed.is_empty() {
            break;
        }
        let (i, when, q) = placed[b.u8() as usize % placed.len()];
        let _ = writeln!(
            t,
            "[[script.returns]]\nat = \"{}\"\norder = \"o{i}\"\nquantity = {}\n",
            at(when + b.range(0, 20 * DAY)),
            b.range(1, q)
        );
    }
    t
}

fuzz_target!(|data: &[u8]| {
    let text = scenario(&mut Bytes(data));
    match affsim::scenario::parse("generated.toml", &text) {
        Err(errs) => common::check_errors("generated.toml", &text, &errs),
        Ok(sc) => {
            if let Some(sc) = common::shrink(sc) {
                common::run_and_check(&sc);
            }
        }
    }
});

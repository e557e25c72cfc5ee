//! Criterion benchmarks of the engine: the event queue against a bare `BinaryHeap`, attribution,
//! commission arithmetic and settlement, a whole replication of the demo, and replications in
//! parallel (the speed-up over one thread).
//!
//! Run with `cargo bench --bench engine`; results and how to read them are in `benches/README.md`.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::hint::black_box;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use affsim::experiment::{self, RunConfig};
use affsim::model::Traffic;
use affsim::money::{Money, Rate, Rounding, RoundingMode};
use affsim::rules::attribution::{self, Query};
use affsim::scenario::{self, Scenario};
use affsim::sim::queue::{EventQueue, Phase};
use affsim::sim::{self, RunOptions};
use affsim::time::SimTime;

/// An event of the same size as the simulator's (16 bytes, `Copy`).
#[derive(Copy, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Payload {
    a: u32,
    b: u32,
    c: u64,
}

/// The event times of a typical run: a working set of pending events, each pop scheduling one
/// new event a random delay ahead (the "hold" model of event-list benchmarks).
fn hold_times(n: usize, working_set: usize) -> (Vec<u32>, Vec<u32>) {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let initial = (0..working_set)
        .map(|_| rng.random_range(0..10_000u32))
        .collect();
    let delays = (0..n).map(|_| rng.random_range(1..20_000u32)).collect();
    (initial, delays)
}

fn event_queue(c: &mut Criterion) {
    hold(c, "event_loop", 100_000, 20);
    // The large scenario's mean number of pending events (`--timing`'s pending_events_mean:
    // 4,963,187 on large, seed 8), to compare its events per second with a bare heap's.
    hold(c, "event_loop_large", 5_000_000, 10);
}

/// 1,000,000 hold operations on `working_set` pending events: affsim's queue and a bare heap.
fn hold(c: &mut Criterion, group: &str, working_set: usize, samples: usize) {
    const N: usize = 1_000_000;
    let (initial, delays) = hold_times(N, working_set);
    let mut g = c.benchmark_group(group);
    g.throughput(Throughput::Elements(N as u64));
    g.sample_size(samples);
    g.bench_function("affsim EventQueue (time, phase, seq)", |b| {
        b.iter_batched(
            || {
                let mut q = EventQueue::with_capacity(working_set + 1);
                for (i, &t) in initial.iter().enumerate() {
                    q.push(
                        SimTime(t),
                        Phase::Order,
                        Payload {
                            a: i as u32,
                            b: 0,
                            c: 0,
                        },
                    );
                }
                q
            },
            |mut q| {
                for &d in &delays {
                    let (t, e) = q.pop().expect("non-empty");
                    q.push(
                        SimTime(t.0 + d),
                        Phase::Order,
                        Payload {
                            a: e.a,
                            b: e.b + 1,
                            c: e.c,
                        },
                    );
                }
                black_box(q.len())
            },
            BatchSize::LargeInput,
        )
    });
    g.bench_function("bare BinaryHeap<Reverse<(time, seq, event)>>", |b| {
        b.iter_batched(
            || {
                let mut h = BinaryHeap::with_capacity(working_set + 1);
                for (i, &t) in initial.iter().enumerate() {
                    h.push(Reverse((
                        t,
                        i as u64,
                        Payload {
                            a: i as u32,
                            b: 0,
                            c: 0,
                        },
                    )));
                }
                (h, working_set as u64)
            },
            |(mut h, mut seq)| {
                for &d in &delays {
                    let Reverse((t, _, e)) = h.pop().expect("non-empty");
                    seq += 1;
                    h.push(Reverse((
                        t + d,
                        seq,
                        Payload {
                            a: e.a,
                            b: e.b + 1,
                            c: e.c,
                        },
                    )));
                }
                black_box(h.len())
            },
            BatchSize::LargeInput,
        )
    });
    g.finish();
}

fn demo() -> Scenario {
    scenario::parse(scenario::DEMO_NAME, scenario::DEMO).expect("the demo validates")
}

fn attribution_bench(c: &mut Criterion) {
    let sc = demo();
    // The state mid-campaign: plans, showcases, invitations, links, Plus participants in place.
    let at = SimTime(15 * 24 * 60);
    let st = sim::state_at(&sc, 0, at);
    let mut queries = Vec::new();
    for ci in 0..st.agents.creators.len() {
        let creator = affsim::model::CreatorId(ci as u32);
        for e in st.platform.showcase(creator) {
            queries.push(Query {
                creator,
                product: e.product,
                seller: st.agents.products[e.product.idx()].seller,
                at,
                traffic: if ci % 10 == 0 {
                    Traffic::Ad
                } else {
                    Traffic::Video
                },
                authorised: ci % 20 == 0,
                entry: Some(*e),
                open_since: st.platform.open_since(creator, e.product),
                eligible: st.agents.products[e.product.idx()].eligible,
            });
        }
    }
    let mut g = c.benchmark_group("attribution");
    g.throughput(Throughput::Elements(queries.len() as u64));
    g.bench_function(
        format!("resolve {} showcase pairs of the demo", queries.len()),
        |b| {
            b.iter(|| {
                let mut n = 0u32;
                for q in &queries {
                    if attribution::resolve(st.platform.books(), q).is_some() {
                        n += 1;
                    }
                }
                black_box(n)
            })
        },
    );
    g.finish();
}

fn settlement(c: &mut Criterion) {
    let rd = Rounding {
        mode: RoundingMode::HalfUp,
        minor_unit: 2,
    };
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let lines: Vec<(Money, Rate, Money, Money)> = (0..10_000)
        .map(|_| {
            let base = Money(rust_decimal::Decimal::new(
                rng.random_range(100..1_000_000),
                2,
            ));
            let rate = Rate(rust_decimal::Decimal::new(rng.random_range(100..8_000), 2));
            let refunded = if rng.random_bool(0.1) {
                Money(base.0 / rust_decimal::Decimal::TWO)
            } else {
                Money::ZERO
            };
            (base, rate, base - refunded, base)
        })
        .collect();
    let mut g = c.benchmark_group("settlement");
    g.throughput(Throughput::Elements(lines.len() as u64));
    g.bench_function("commission: base × rate × kept/paid, rounded once", |b| {
        b.iter(|| {
            let mut total = Money::ZERO;
            for &(base, rate, kept, paid) in &lines {
                total += rd.commission(base, rate, kept, paid);
            }
            black_box(total)
        })
    });
    g.finish();
}

fn whole_scenario(c: &mut Criterion) {
    let sc = demo();
    let events = sim::run_replication(&sc, 0, &RunOptions::default())
        .expect("balanced")
        .events;
    let mut g = c.benchmark_group("scenario");
    g.sample_size(10);
    g.throughput(Throughput::Elements(events));
    g.bench_function("demo replication 0 (events/s)", |b| {
        b.iter(|| {
            black_box(
                sim::run_replication(&sc, 0, &RunOptions::default())
                    .expect("balanced")
                    .events,
            )
        })
    });
    g.finish();
}

/// Eight replications of the demo on one thread and on every core: the parallel speed-up is the
/// ratio of the two times (the replications are independent; results are collected in index
/// order, so they are the same either way).
fn parallel(c: &mut Criterion) {
    const REPLICATIONS: u32 = 8;
    let sc = demo();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let events: u64 = (0..REPLICATIONS)
        .map(|i| {
            sim::run_replication(&sc, i, &RunOptions::default())
                .expect("balanced")
                .events
        })
        .sum();
    let mut g = c.benchmark_group("parallel");
    g.sample_size(10);
    g.throughput(Throughput::Elements(events));
    for threads in [1, cores] {
        let cfg = RunConfig {
            replications: Some(REPLICATIONS),
            threads: Some(threads),
            ..RunConfig::default()
        };
        g.bench_function(
            format!("demo, {REPLICATIONS} replications, {threads} thread(s)"),
            |b| {
                b.iter(|| {
                    let out = experiment::run(&sc, &cfg).expect("balanced");
                    black_box(out.replications.len())
                })
            },
        );
    }
    g.finish();
}

criterion_group!(
    benches,
    event_queue,
    attribution_bench,
    settlement,
    whole_scenario,
    parallel
);
criterion_main!(benches);

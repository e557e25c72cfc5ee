//! `affsim explain` through the library: a Target invitation's message (TARGET-1, informational)
//! and the ads authorisation of a Target flat-fee video (TARGET-4, PLUS-10) appear where an
//! order line or a rate comes from that invitation, and nowhere else.

use affsim::explain::{self, OrderSel};
use affsim::model::Traffic;
use affsim::rules::orders::Authorisation;
use affsim::time::{SimTime, parse_datetime};

/// A flat-fee invitation with a message and ads authorisation (Ayu), a commission-only one
/// without a message (Budi), and scripted orders on both; everything scripted.
const SCENARIO: &str = r#"[scenario]
name = "explain-target"
region = "ID"
start = "2025-10-01"
days = 20

[[sellers]]
id = "glow"

[[products]]
id = "serum"
seller = "glow"
price = "150000"

[[creators]]
id = "ayu"
followers = 25000

[[creators]]
id = "budi"
followers = 8000

[[target_invitations]]
id = "launch"
seller = "glow"
creators = ["ayu"]
sent = "2025-10-02 09:00"
days = 21
flat_fee = "200000"
authorise_ads = true
message = "Serum launch: one video, please"
scripted = true
products = [{ product = "serum", rate = "15%", shop_ads_rate = "18%" }]

[[target_invitations]]
id = "quiet"
seller = "glow"
creators = ["budi"]
sent = "2025-10-02 09:00"
days = 21
scripted = true
products = [{ product = "serum", rate = "12%" }]

[behaviour.creators]
actions_per_day = 0.0

[behaviour.buyers]
conversion_rate = 0.0

[[script.target_responses]]
at = "2025-10-02 10:00"
invitation = "launch"
creator = "ayu"
accept = true

[[script.target_responses]]
at = "2025-10-02 10:00"
invitation = "quiet"
creator = "budi"
accept = true

[[script.video_submissions]]
at = "2025-10-03 10:00"
invitation = "launch"
creator = "ayu"

[[script.video_reviews]]
at = "2025-10-04 10:00"
invitation = "launch"
creator = "ayu"
approve = true

[[script.orders]]
id = "ayu-ad"
at = "2025-10-05 12:00"
creator = "ayu"
product = "serum"
traffic = "ad"
target_video = "launch"
delivered = "2025-10-06 12:00"

[[script.orders]]
id = "budi-video"
at = "2025-10-05 12:00"
creator = "budi"
product = "serum"
delivered = "2025-10-06 12:00"

[[expect]]
metric = "orders"
equals = "2"
"#;

fn scenario() -> affsim::scenario::Scenario {
    affsim::scenario::parse("explain-target.toml", SCENARIO).expect("the fixture validates")
}

#[test]
fn order_explanation_shows_the_message_and_the_video_authorisation() {
    let sc = scenario();
    let e = explain::explain_order(&sc, 0, &OrderSel::parse("ayu-ad")).expect("explained");
    assert_eq!(e.order.authorised, Authorisation::SellerRequest);
    assert_eq!(e.order.target_video.as_deref(), Some("launch"));
    assert!(e.order.shop_ads, "the Target Shop Ads rate applies");
    assert_eq!(e.messages.len(), 1);
    assert_eq!(e.messages[0].invitation, "launch");
    assert_eq!(e.messages[0].message, "Serum launch: one video, please");
    let text = explain::order_text(&e);
    assert!(
        text.contains(
            "seller's message (target invitation launch): \"Serum launch: one video, please\""
        ),
        "{text}"
    );
    assert!(
        text.contains("from the flat-fee video of target invitation launch: authorised for ads at the seller's request (authorise_ads, TARGET-4)"),
        "{text}"
    );
    let json = serde_json::to_value(&e).expect("serialises");
    assert_eq!(
        json["messages"][0]["message"],
        "Serum launch: one video, please"
    );
    assert_eq!(json["order"]["authorised"], true, "a boolean");
    assert_eq!(json["order"]["authorised_by"], "seller-request");
}

#[test]
fn an_invitation_without_a_message_shows_none() {
    let sc = scenario();
    let e = explain::explain_order(&sc, 0, &OrderSel::parse("budi-video")).expect("explained");
    assert_eq!(e.plan_name, "target invitation quiet");
    assert!(e.messages.is_empty());
    assert!(e.video.is_none());
    assert_eq!(e.order.authorised, Authorisation::No);
    let text = explain::order_text(&e);
    assert!(!text.contains("message"), "{text}");
}

#[test]
fn rate_explanation_shows_the_message_of_the_paying_invitation() {
    let sc = scenario();
    let at = |s: &str| -> SimTime {
        sc.calendar
            .time_of(parse_datetime(s).expect("a date-time"))
            .expect("after the start")
    };
    // accepted on 2 Oct 10:00: the invitation pays, its message shows
    let e = explain::explain_rate(
        &sc,
        0,
        "ayu",
        "serum",
        at("2025-10-05 12:00"),
        Traffic::Video,
        false,
    )
    .expect("explained");
    assert_eq!(e.rate.as_deref(), Some("15%"));
    assert_eq!(e.messages.len(), 1);
    assert!(explain::rate_text(&e).contains("Serum launch: one video, please"));
    // before acceptance no plan pays: no message
    let e = explain::explain_rate(
        &sc,
        0,
        "ayu",
        "serum",
        at("2025-10-02 09:30"),
        Traffic::Video,
        false,
    )
    .expect("explained");
    assert!(e.rate.is_none());
    assert!(e.messages.is_empty());
}

//! The scenarios compiled into the binary, addressable by name (`affsim run demo`, `affsim
//! scenarios --print demo`).

/// A built-in scenario: its name, a one-line description and its text.
pub struct Builtin {
    pub name: &'static str,
    pub description: &'static str,
    pub source: &'static str,
}

/// Every built-in scenario, the demo first.
pub const BUILTINS: &[Builtin] = &[
    Builtin {
        name: "demo",
        description: "the built-in demo (affsim run): Shop plan, Open plans with samples and a rate cut, Target invitations, a distributor campaign, a Collaboration Plus Task and Challenge, over a synthetic market",
        source: super::DEMO,
    },
    Builtin {
        name: "starter",
        description: "the commented starter that `affsim new` writes: one seller, a Shop and an Open plan, one creator, two scripted orders",
        source: include_str!("../../scenarios/examples/starter.toml"),
    },
    Builtin {
        name: "plus-task-reward-sweep",
        description: "a sweep example (affsim sweep): a Plus Task's reward level and platform policy, compared with paired replications",
        source: include_str!("../../scenarios/examples/plus-task-reward-sweep.toml"),
    },
];

/// The built-in scenario called `name`.
pub fn builtin(name: &str) -> Option<&'static Builtin> {
    BUILTINS.iter().find(|b| b.name == name)
}

/// The name errors use for a built-in scenario (`<built-in demo>`).
pub fn file_name(b: &Builtin) -> String {
    format!("<built-in {}>", b.name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_validates_under_its_own_name() {
        for b in BUILTINS {
            let sc = crate::scenario::parse(&file_name(b), b.source)
                .unwrap_or_else(|e| panic!("{}: {}", b.name, e[0]));
            assert_eq!(
                sc.name, b.name,
                "a built-in is addressed by its scenario name"
            );
        }
        assert_eq!(file_name(&BUILTINS[0]), crate::scenario::DEMO_NAME);
    }
}

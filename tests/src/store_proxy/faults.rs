//! What a test asked the proxy for, and what the proxy did: the fault rules, the seeded random
//! mode, the record of requests and the counters.

use super::{Fault, MAX_HANG, Seen};
use std::time::Duration;

/// The proxy's whole mutable state, behind one lock.
#[derive(Debug)]
pub(super) struct Faults {
    rules: Vec<Rule>,
    random: Option<RandomFaults>,
    hang: Duration,
    seen: Vec<Seen>,
    pub(super) forwarded: u32,
    fired: u32,
    pub(super) in_flight: u32,
}

/// `fault` for the next `times` requests for `operation` (any when `None`).
#[derive(Debug)]
struct Rule {
    operation: Option<String>,
    fault: Fault,
    times: u32,
}

/// Each request no rule caught gets one of [`Fault::ALL`] with probability `per_mille`/1000.
#[derive(Debug)]
struct RandomFaults {
    rng: SplitMix64,
    per_mille: u32,
}

impl RandomFaults {
    /// One draw per request, so the faults depend only on the seed and the order of requests.
    fn draw(&mut self) -> Option<Fault> {
        let x = self.rng.next();
        (x % 1000 < u64::from(self.per_mille)).then(|| Fault::ALL[(x / 1000 % 4) as usize])
    }
}

/// SplitMix64: a seed gives the same draws on every platform and with every version of `rand`.
#[derive(Debug)]
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

impl Faults {
    /// No faults yet, `hang` for a [`Fault::Hang`].
    pub(super) fn new(hang: Duration) -> Self {
        Faults {
            rules: Vec::new(),
            random: None,
            hang: hang.min(MAX_HANG),
            seen: Vec::new(),
            forwarded: 0,
            fired: 0,
            in_flight: 0,
        }
    }

    pub(super) fn inject(&mut self, operation: Option<&str>, fault: Fault, times: u32) {
        if times > 0 {
            self.rules.push(Rule {
                operation: operation.map(str::to_owned),
                fault,
                times,
            });
        }
    }

    pub(super) fn random(&mut self, seed: u64, per_mille: u32) {
        self.random = Some(RandomFaults {
            rng: SplitMix64(seed),
            per_mille: per_mille.min(1000),
        });
    }

    pub(super) fn clear(&mut self) {
        self.rules.clear();
        self.random = None;
    }

    pub(super) fn set_hang(&mut self, hang: Duration) {
        self.hang = hang.min(MAX_HANG);
    }

    pub(super) fn hang(&self) -> Duration {
        self.hang
    }

    pub(super) fn fired(&self) -> u32 {
        self.fired
    }

    pub(super) fn seen(&self) -> &[Seen] {
        &self.seen
    }

    /// The fault for the next request, recorded: a matching rule first, then the random mode.
    pub(super) fn decide(&mut self, operation: &str) -> Option<Fault> {
        let ruled = self
            .rules
            .iter_mut()
            .find(|r| r.operation.as_deref().is_none_or(|op| op == operation))
            .map(|r| {
                r.times -= 1;
                r.fault
            });
        self.rules.retain(|r| r.times > 0);
        let fault = ruled.or_else(|| self.random.as_mut().and_then(RandomFaults::draw));
        self.seen.push(Seen {
            operation: operation.to_owned(),
            fault,
        });
        if fault.is_some() {
            self.fired += 1;
        }
        fault
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_come_first_in_order_and_run_out() {
        let mut faults = Faults::new(Duration::ZERO);
        faults.random(1, 1000);
        faults.inject(Some("PutItem"), Fault::Throttle, 2);
        faults.inject(None, Fault::Hang, 1);
        let got: Vec<_> = ["GetItem", "PutItem", "PutItem", "PutItem"]
            .iter()
            .map(|op| faults.decide(op))
            .collect();
        assert_eq!(got[0], Some(Fault::Hang), "the any-operation rule");
        assert_eq!(got[1..3], [Some(Fault::Throttle); 2], "the PutItem rule");
        assert!(got[3].is_some(), "then the random mode, at 1000 per mille");
        faults.clear();
        assert_eq!(faults.decide("PutItem"), None, "cleared");
        assert_eq!(faults.fired(), 4);
    }
}

//! Per-command counts for the disconnect log line, in Postfix's form:
//! `ehlo=1 mail=2/4 rcpt=1 data=0/1 quit=1 commands=4/8` (ok/total; the
//! total only when some failed).

use std::fmt;

use crate::command::Verb;

/// Successes and attempts per verb.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Stats {
    counts: [(u32, u32); Verb::ALL.len()],
}

impl Stats {
    pub fn count(&mut self, verb: Verb, ok: bool) {
        let Some(i) = Verb::ALL.iter().position(|v| *v == verb) else {
            return;
        };
        let (good, total) = &mut self.counts[i];
        *total += 1;
        if ok {
            *good += 1;
        }
    }

    /// (successes, attempts) of one verb.
    pub fn get(&self, verb: Verb) -> (u32, u32) {
        Verb::ALL
            .iter()
            .position(|v| *v == verb)
            .map_or((0, 0), |i| self.counts[i])
    }
}

fn pair(f: &mut fmt::Formatter<'_>, name: &str, good: u32, total: u32) -> fmt::Result {
    if good == total {
        write!(f, "{name}={good}")
    } else {
        write!(f, "{name}={good}/{total}")
    }
}

impl fmt::Display for Stats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (mut good, mut total) = (0, 0);
        for (verb, (g, t)) in Verb::ALL.iter().zip(self.counts) {
            if t == 0 {
                continue;
            }
            pair(f, &verb.name().to_ascii_lowercase(), g, t)?;
            f.write_str(" ")?;
            good += g;
            total += t;
        }
        pair(f, "commands", good, total)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postfix_disconnect_counts() {
        let mut s = Stats::default();
        assert_eq!(s.to_string(), "commands=0");
        s.count(Verb::Ehlo, true);
        s.count(Verb::Mail, true);
        s.count(Verb::Mail, false);
        s.count(Verb::Unknown, false);
        s.count(Verb::Quit, true);
        assert_eq!(
            s.to_string(),
            "ehlo=1 mail=1/2 quit=1 unknown=0/1 commands=3/5"
        );
        assert_eq!(s.get(Verb::Mail), (1, 2));
    }
}

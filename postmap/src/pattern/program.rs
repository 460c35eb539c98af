//! The rule list of a pattern table: match rules, and `if` ... `endif`
//! blocks that skip their body when the condition fails. Shared by the
//! regexp, pcre and cidr tables, which differ only in what a condition
//! is. First matching rule wins, as in Postfix.

/// One rule.
#[derive(Debug)]
enum Op<M, C> {
    Match(M),
    /// `endif` is the index of the matching `endif` rule, or `None` when
    /// the block is never closed (then a failed condition ends the search).
    If {
        cond: C,
        endif: Option<usize>,
    },
    Endif,
}

/// Rules in table order, with each `if` linked to its `endif`.
#[derive(Debug)]
pub(crate) struct Program<M, C> {
    ops: Vec<Op<M, C>>,
}

/// Builds a [`Program`] while the table is read, tracking nesting.
#[derive(Debug)]
pub(crate) struct Builder<M, C> {
    ops: Vec<Op<M, C>>,
    /// Open `if` rules: index in `ops` and source line.
    open: Vec<(usize, usize)>,
}

impl<M, C> Builder<M, C> {
    pub(crate) fn new() -> Builder<M, C> {
        Builder {
            ops: Vec::new(),
            open: Vec::new(),
        }
    }

    /// How many `if` blocks are open.
    pub(crate) fn nesting(&self) -> usize {
        self.open.len()
    }

    pub(crate) fn push_match(&mut self, rule: M) {
        self.ops.push(Op::Match(rule));
    }

    pub(crate) fn push_if(&mut self, cond: C, line: usize) {
        self.open.push((self.ops.len(), line));
        self.ops.push(Op::If { cond, endif: None });
    }

    /// Close the innermost `if`; false when none is open (the caller has
    /// its own words for that).
    pub(crate) fn push_endif(&mut self) -> bool {
        let Some((index, _)) = self.open.pop() else {
            return false;
        };
        let here = self.ops.len();
        if let Some(Op::If { endif, .. }) = self.ops.get_mut(index) {
            *endif = Some(here);
        }
        self.ops.push(Op::Endif);
        true
    }

    /// The program, and the lines of `if` rules never closed, innermost
    /// first (the order of Postfix's "IF has no matching ENDIF" warnings).
    pub(crate) fn finish(self) -> (Program<M, C>, Vec<usize>) {
        let unclosed = self.open.iter().rev().map(|&(_, line)| line).collect();
        (Program { ops: self.ops }, unclosed)
    }
}

impl<M, C> Program<M, C> {
    /// Walk the rules for one key. `holds` says whether an `if` condition
    /// holds (negation included); `answer` gives a match rule's result or
    /// `None` to go on. Stops at the first answer or error.
    pub(crate) fn run<R, E>(
        &self,
        mut holds: impl FnMut(&C) -> Result<bool, E>,
        mut answer: impl FnMut(&M) -> Result<Option<R>, E>,
    ) -> Result<Option<R>, E> {
        let mut at = 0;
        while let Some(op) = self.ops.get(at) {
            match op {
                Op::Match(rule) => {
                    if let Some(result) = answer(rule)? {
                        return Ok(Some(result));
                    }
                }
                Op::If { cond, endif } => {
                    if !holds(cond)? {
                        match endif {
                            Some(end) => at = *end,
                            None => return Ok(None),
                        }
                    }
                }
                Op::Endif => {}
            }
            at += 1;
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rules: match rules are (needle, result), conditions are needles.
    fn lookup(program: &Program<(&str, &str), &str>, key: &str) -> Option<String> {
        let result: Result<Option<String>, ()> = program.run(
            |cond| Ok(key.contains(cond)),
            |(needle, value)| Ok(key.contains(needle).then(|| value.to_string())),
        );
        result.unwrap()
    }

    #[test]
    fn if_blocks_skip_their_body() {
        let mut b = Builder::new();
        b.push_if("true", 1);
        b.push_match(("1", "one"));
        b.push_if("false", 3);
        b.push_match(("2", "two"));
        assert!(b.push_endif());
        b.push_match(("3", "three"));
        assert!(b.push_endif());
        b.push_match(("x", "ex"));
        assert!(!b.push_endif());
        let (p, unclosed) = b.finish();
        assert!(unclosed.is_empty());
        assert_eq!(lookup(&p, "true1"), Some("one".into()));
        assert_eq!(lookup(&p, "true2"), None);
        assert_eq!(lookup(&p, "truefalse2"), Some("two".into()));
        assert_eq!(lookup(&p, "3"), None);
        assert_eq!(lookup(&p, "3x"), Some("ex".into()));
    }

    #[test]
    fn unclosed_if_ends_the_search_when_false() {
        let mut b = Builder::new();
        b.push_if("a", 4);
        b.push_if("b", 5);
        b.push_match(("c", "see"));
        let (p, unclosed) = b.finish();
        assert_eq!(unclosed, vec![5, 4]);
        assert_eq!(lookup(&p, "abc"), Some("see".into()));
        assert_eq!(lookup(&p, "ac"), None);
    }

    #[test]
    fn errors_stop_the_walk() {
        let mut b: Builder<(), ()> = Builder::new();
        b.push_if((), 1);
        let (p, _) = b.finish();
        let r: Result<Option<()>, &str> = p.run(|_| Err("boom"), |_| Ok(None));
        assert_eq!(r, Err("boom"));
    }
}

//! Service patterns: `name`, `name/type`, `name/type/field-or-parameter`,
//! where any component may be `*` (and `*` only all by itself).

/// The wild card that matches any component.
pub const ANY: &str = "*";

/// A parsed `name/type[/third]` pattern; missing components are `*`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    pub name: String,
    pub kind: String,
    /// The field or parameter name, `*` when not given; None for patterns
    /// of at most two components.
    pub third: Option<String>,
}

impl Pattern {
    /// Parse `text` with `min..=max` components (max is 2 or 3), as
    /// Postfix's `pcf_parse_service_pattern()` does: empty components are
    /// skipped, a leading `/` is an error, `*` must stand alone.
    pub fn parse(text: &str, min: usize, max: usize) -> Option<Pattern> {
        if text.starts_with('/') {
            return None;
        }
        let parts: Vec<&str> = text.split('/').filter(|p| !p.is_empty()).collect();
        if parts.len() < min || parts.len() > max {
            return None;
        }
        if parts.iter().any(|p| *p != ANY && p.contains('*')) {
            return None;
        }
        let get = |i: usize| parts.get(i).copied().unwrap_or(ANY).to_string();
        Some(Pattern {
            name: get(0),
            kind: get(1),
            third: (max > 2).then(|| get(2)),
        })
    }

    /// A pattern that matches exactly one service name and type (or the
    /// wild card, if one of them is `*`).
    pub fn exact(name: &str, kind: &str) -> Pattern {
        Pattern {
            name: name.to_string(),
            kind: kind.to_string(),
            third: None,
        }
    }

    pub fn matches(&self, name: &str, kind: &str) -> bool {
        component_matches(&self.name, name) && component_matches(&self.kind, kind)
    }

    /// Whether the third component is the wild card (or absent).
    pub fn third_is_any(&self) -> bool {
        self.third.as_deref().is_none_or(|t| t == ANY)
    }
}

fn component_matches(pattern: &str, text: &str) -> bool {
    pattern == ANY || pattern == text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn components_default_to_any() {
        let p = Pattern::parse("foo", 1, 2).expect("valid");
        assert_eq!((p.name.as_str(), p.kind.as_str()), ("foo", "*"));
        assert_eq!(p.third, None);
        let p = Pattern::parse("foo/unix", 1, 3).expect("valid");
        assert_eq!(p.third.as_deref(), Some("*"));
        assert!(p.third_is_any());
    }

    #[test]
    fn empty_components_are_skipped() {
        let p = Pattern::parse("foo//unix/", 1, 2).expect("valid");
        assert_eq!((p.name.as_str(), p.kind.as_str()), ("foo", "unix"));
    }

    #[test]
    fn invalid_patterns() {
        assert_eq!(Pattern::parse("/foo", 1, 2), None);
        assert_eq!(Pattern::parse("", 1, 2), None);
        assert_eq!(Pattern::parse("fo*", 1, 2), None);
        assert_eq!(Pattern::parse("a/b/c", 1, 2), None);
        assert_eq!(Pattern::parse("a", 2, 2), None);
    }

    #[test]
    fn wild_cards_match() {
        let p = Pattern::parse("*/inet", 1, 2).expect("valid");
        assert!(p.matches("smtp", "inet"));
        assert!(!p.matches("smtp", "unix"));
        assert!(Pattern::exact("*", "*").matches("a", "b"));
    }
}

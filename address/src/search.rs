//! A table with a search order (Postfix `map_search`): either a plain
//! `type:name`, or `{ type:name, { search_order = name, name, ... } }`,
//! where the caller defines which search names exist (for example, which
//! certificate fingerprints `check_ccert_access` tries).

/// A parsed specification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MapSearch<T> {
    /// The `type:name` of the table.
    pub table: String,
    /// The search order, when one was given (it may be empty).
    pub order: Option<Vec<T>>,
}

/// Why a specification is not valid. [`Error::warnings`] gives Postfix's
/// warning lines.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// Braces do not balance (`detail` is Postfix's text for why).
    #[error("malformed map specification: '{detail}'")]
    Braces { detail: String },
    /// Nothing inside the braces.
    #[error("empty map specification: '{spec}'")]
    Empty { spec: String },
    /// The table is not `type:name`.
    #[error("malformed map specification: '{spec}': expected maptype:mapname instead of '{table}'")]
    NotTypeName { spec: String, table: String },
    /// An attribute in braces does not balance.
    #[error("malformed map attribute: {detail}")]
    AttributeBraces { detail: String },
    /// An attribute is not `name = value`.
    #[error("malformed map attribute in '{spec}': '{detail}'")]
    Attribute { spec: String, detail: String },
    /// An attribute other than `search_order`.
    #[error("unknown map attribute in '{spec}': '{name}'")]
    UnknownAttribute { spec: String, name: String },
    /// A search name the caller does not know.
    #[error("unknown search type '{name}' in '{spec}'")]
    UnknownSearch { spec: String, name: String },
}

impl Error {
    /// The warnings Postfix logs for this error, one per line.
    pub fn warnings(&self) -> Vec<String> {
        match self {
            Error::NotTypeName { spec, table } => vec![
                format!("malformed map specification: '{spec}'"),
                format!("expected maptype:mapname instead of '{table}'"),
            ],
            other => vec![other.to_string()],
        }
    }
}

/// The attribute that sets the search order.
const SEARCH_ORDER: &str = "search_order";

/// What separates the table and the attributes, and the search names.
const SEPARATORS: &[char] = &[',', ' ', '\t', '\r', '\n'];

/// Parse `spec`; `names` maps each search name the caller supports to its
/// value.
pub fn parse<T: Copy>(spec: &str, names: &[(&str, T)]) -> Result<MapSearch<T>, Error> {
    let (table, attributes) = match spec.strip_prefix('{') {
        None => (spec, None),
        Some(_) => {
            let inner = postmap::spec::extract_braced(spec, true)
                .map_err(|detail| Error::Braces { detail })?;
            let inner = inner.trim_start_matches(SEPARATORS);
            let end = inner.find(SEPARATORS).unwrap_or(inner.len());
            if end == 0 {
                return Err(Error::Empty {
                    spec: spec.to_string(),
                });
            }
            (&inner[..end], Some(&inner[end..]))
        }
    };
    if !table.contains(':') {
        return Err(Error::NotTypeName {
            spec: spec.to_string(),
            table: table.to_string(),
        });
    }
    let mut order_text = None;
    for attribute in attributes
        .map(postmap::spec::split_list)
        .unwrap_or_default()
    {
        let attribute = match attribute.starts_with('{') {
            true => postmap::spec::extract_braced(attribute, true)
                .map_err(|detail| Error::AttributeBraces { detail })?,
            false => attribute,
        };
        let (name, value) = split_name_value(attribute).map_err(|detail| Error::Attribute {
            spec: spec.to_string(),
            detail: detail.to_string(),
        })?;
        if !name.eq_ignore_ascii_case(SEARCH_ORDER) {
            return Err(Error::UnknownAttribute {
                spec: spec.to_string(),
                name: name.to_string(),
            });
        }
        order_text = Some(value);
    }
    let order = order_text
        .map(|text| search_order(spec, text, names))
        .transpose()?;
    Ok(MapSearch {
        table: table.to_string(),
        order,
    })
}

/// The search names in `text`, as values.
fn search_order<T: Copy>(spec: &str, text: &str, names: &[(&str, T)]) -> Result<Vec<T>, Error> {
    text.split(SEPARATORS)
        .filter(|name| !name.is_empty())
        .map(|name| {
            names
                .iter()
                .find(|(known, _)| *known == name)
                .map(|(_, value)| *value)
                .ok_or_else(|| Error::UnknownSearch {
                    spec: spec.to_string(),
                    name: name.to_string(),
                })
        })
        .collect()
}

/// `name = value` (Postfix `split_nameval`): the name ends at white space
/// or `=`, the value is trimmed.
fn split_name_value(text: &str) -> Result<(&str, &str), &'static str> {
    let text = text.trim_start_matches(postmap::spec::is_space);
    if text.is_empty() {
        return Err("missing attribute name");
    }
    let end = text
        .find(|c| c == '=' || postmap::spec::is_space(c))
        .unwrap_or(text.len());
    let Some(value) = text[end..]
        .trim_start_matches(postmap::spec::is_space)
        .strip_prefix('=')
    else {
        return Err("missing '=' after attribute name");
    };
    Ok((&text[..end], value.trim_matches(postmap::spec::is_space)))
}

#[cfg(test)]
mod tests {
    use super::*;

    const NAMES: &[(&str, u8)] = &[("one", 1), ("two", 2)];

    #[test]
    fn plain_and_braced_specs() {
        let plain = parse("type:name", NAMES).expect("valid");
        assert_eq!((plain.table.as_str(), plain.order), ("type:name", None));
        let ordered = parse("{ inline:{a=b}, {search_order = two one} }", NAMES).expect("valid");
        assert_eq!(ordered.table, "inline:{a=b}");
        assert_eq!(ordered.order, Some(vec![2, 1]));
    }

    #[test]
    fn errors_carry_postfix_warnings() {
        let err = parse("{}", NAMES).expect_err("empty");
        assert_eq!(err.warnings(), ["empty map specification: '{}'"]);
        let err = parse("{type:name {}}", NAMES).expect_err("no name");
        assert_eq!(
            err.to_string(),
            "malformed map attribute in '{type:name {}}': 'missing attribute name'"
        );
        let err = parse("{type:name {=x}}", NAMES).expect_err("empty name");
        assert_eq!(
            err.to_string(),
            "unknown map attribute in '{type:name {=x}}': ''"
        );
        assert!(parse("{type:name {search_order=one}", NAMES).is_err());
        assert!(parse("{type:name {search_order=one}}}", NAMES).is_err());
    }
}

//! The inspector: a MIME walk of one message with the checks applied to
//! each logical header and body line. It tells the caller what to write
//! (headers, body lines, prepended lines), what was removed, what the
//! actions logged, and collects the [`Verdict`]. Postfix splits this
//! between `cleanup_message.c` (receiving) and `header_body_checks.c`
//! (delivery agents); [`Profile`] selects which rules apply.

use std::sync::Arc;

use crate::mime::{self, Defect, Defects, Event, HeaderClass, HeaderInfo, Limits, Walker, header};

use super::Context;
use super::action::Action;
use super::log::{LogAction, Logged};
use super::maps::Maps;
use super::verdict::{Rejection, Verdict};

/// Which actions apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Profile {
    /// cleanup(8) while receiving: every action.
    Cleanup,
    /// A delivery agent (smtp_header_checks, ...): only the actions that
    /// edit or log a line; the others are logged as unsupported.
    Delivery,
}

/// What the inspector reports, in content order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output<'a> {
    /// A header to write: the original, or a REPLACE result (with
    /// `info` for the new name). `class` is where it is; note that
    /// cleanup treats MIME headers of the primary block like part headers
    /// (no address rewriting), which `info` tells.
    Header {
        class: HeaderClass,
        info: Option<HeaderInfo>,
        text: &'a [u8],
        offset: u64,
    },
    /// A line a PREPEND action inserts before the header or body line
    /// that comes next.
    Prepend { context: Context, text: &'a str },
    /// A header or body line IGNORE or STRIP removed: not to be written.
    /// (cleanup still counts a removed `Received:` header as a hop.)
    Removed {
        context: Context,
        info: Option<HeaderInfo>,
        text: &'a [u8],
    },
    /// The primary header block ended.
    HeaderEnd,
    /// A body record to write (`complete`: a whole line).
    Body {
        text: &'a [u8],
        complete: bool,
        offset: u64,
    },
    /// The content ended.
    BodyEnd,
    /// An action that logs (see [`Logged::cleanup_line`]).
    Logged(Logged<'a>),
    /// A configuration problem to log as a warning, in Postfix's words
    /// (bad action text, non-UTF-8 lookup key, ...).
    Warning(String),
    /// A table of `param` failed; the message must be deferred (see
    /// [`Verdict::lookup_error`]).
    LookupError {
        param: &'a str,
        error: postmap::maps::Error,
    },
    /// A MIME defect the options report (cleanup logs it with
    /// [`super::LogContext::mime_error_line`]).
    Defect { defect: Defect, text: &'a [u8] },
}

type Out<'o> = dyn FnMut(Output<'_>) + 'o;

/// How one matched line is handled.
#[derive(Debug)]
enum Effect {
    Keep,
    Drop,
    Replace(String),
}

/// The MIME walk and the checks of one message.
#[derive(Debug)]
pub struct Inspector {
    walker: Walker,
    checker: Checker,
}

#[derive(Debug)]
struct Checker {
    maps: Arc<Maps>,
    rules: Rules,
}

#[derive(Debug)]
struct Rules {
    profile: Profile,
    verdict: Verdict,
    /// Off after REJECT, DISCARD, REDIRECT or PASS: later lines are
    /// passed through unchecked.
    inspecting: bool,
}

impl Inspector {
    /// An inspector for one message. Empty `maps` check nothing (the MIME
    /// walk and its defect reports still happen).
    pub fn new(
        maps: Arc<Maps>,
        profile: Profile,
        options: mime::Options,
        limits: Limits,
    ) -> Inspector {
        Inspector {
            walker: Walker::new(options, limits),
            checker: Checker {
                maps,
                rules: Rules {
                    profile,
                    verdict: Verdict::default(),
                    inspecting: true,
                },
            },
        }
    }

    /// Inspect one content record (a line without its terminator, or a
    /// piece of a long line when not `complete`).
    pub fn update(&mut self, text: &[u8], complete: bool, out: &mut Out<'_>) {
        let checker = &mut self.checker;
        self.walker
            .update(text, complete, &mut |event| checker.on_event(event, out));
    }

    /// End of content. With [`Profile::Cleanup`], a reported MIME defect
    /// (other than a truncated header) rejects the message when nothing
    /// else did, as Postfix does.
    pub fn finish(&mut self, out: &mut Out<'_>) -> &Verdict {
        let checker = &mut self.checker;
        let mut defects = self
            .walker
            .finish(&mut |event| checker.on_event(event, out));
        let rules = &mut self.checker.rules;
        defects.remove(Defect::TruncatedHeader);
        if rules.profile == Profile::Cleanup
            && rules.verdict.reject.is_none()
            && let Some(defect) = defects.most_serious()
        {
            rules.verdict.reject = Some(Rejection::from_defect(defect));
        }
        &rules.verdict
    }

    pub fn verdict(&self) -> &Verdict {
        &self.checker.rules.verdict
    }

    pub fn into_verdict(self) -> Verdict {
        self.checker.rules.verdict
    }

    /// Whether lines are still checked (not after REJECT, DISCARD,
    /// REDIRECT or PASS).
    pub fn is_inspecting(&self) -> bool {
        self.checker.rules.inspecting
    }

    /// The MIME defects reported so far.
    pub fn defects(&self) -> Defects {
        self.walker.defects()
    }
}

impl Checker {
    fn on_event(&mut self, event: Event<'_>, out: &mut Out<'_>) {
        match event {
            Event::Header {
                class,
                info,
                text,
                offset,
            } => self.header(class, info, text, offset, out),
            Event::HeaderEnd => out(Output::HeaderEnd),
            Event::Body {
                text,
                complete,
                offset,
            } => self.body(text, complete, offset, out),
            Event::BodyEnd => out(Output::BodyEnd),
            Event::Defect { defect, text } => out(Output::Defect { defect, text }),
        }
    }

    fn header(
        &mut self,
        class: HeaderClass,
        info: Option<HeaderInfo>,
        text: &[u8],
        offset: u64,
        out: &mut Out<'_>,
    ) {
        // MIME headers are checked with mime_header_checks wherever they
        // are, as in Postfix.
        let checks = match info {
            Some(info) if info.is_mime() => HeaderClass::Multipart,
            _ => class,
        };
        let effect = match self.maps.header(checks) {
            Some(list) if self.rules.inspecting => {
                self.rules.check(list, Context::Header, text, out)
            }
            _ => Effect::Keep,
        };
        match effect {
            Effect::Keep => out(Output::Header {
                class,
                info,
                text,
                offset,
            }),
            Effect::Drop => out(Output::Removed {
                context: Context::Header,
                info,
                text,
            }),
            Effect::Replace(new) => out(Output::Header {
                class,
                info: header::find(new.as_bytes()),
                text: new.as_bytes(),
                offset,
            }),
        }
    }

    fn body(&mut self, text: &[u8], complete: bool, offset: u64, out: &mut Out<'_>) {
        let limit = self.maps.body_size_limit();
        let in_range = limit == 0 || offset < limit;
        let effect = match self.maps.body() {
            Some(list) if self.rules.inspecting && in_range => {
                self.rules.check(list, Context::Body, text, out)
            }
            _ => Effect::Keep,
        };
        let text = match &effect {
            Effect::Keep => text,
            Effect::Replace(new) => new.as_bytes(),
            Effect::Drop => {
                let context = Context::Body;
                return out(Output::Removed {
                    context,
                    info: None,
                    text,
                });
            }
        };
        out(Output::Body {
            text,
            complete,
            offset,
        });
    }
}

/// The problem with the text of a PREPEND or REPLACE action, if any.
fn line_text_problem(command: &str, text: &str, context: Context, param: &str) -> Option<String> {
    if text.is_empty() {
        return Some(format!("{command} action without text in {param} map"));
    }
    if context == Context::Header && !header::is_header(text.as_bytes()) {
        return Some(format!(
            "bad {command} header text \"{text}\" in {param} map -- \
             need \"headername: headervalue\""
        ));
    }
    None
}

impl Rules {
    /// Look `key` up in `list` and carry out the action it finds.
    fn check(
        &mut self,
        list: &postmap::Maps,
        context: Context,
        key: &[u8],
        out: &mut Out<'_>,
    ) -> Effect {
        let mut warnings = Vec::new();
        let found = list.find_bytes(key, postmap::maps::Key::Full, &mut warnings);
        for warning in warnings {
            out(Output::Warning(warning));
        }
        let line = Line {
            context,
            content: key,
            param: list.title(),
        };
        match found {
            Ok(Some(value)) => match self.profile {
                Profile::Cleanup => self.decide(&value, &line, out),
                Profile::Delivery => self.deliver(&value, &line, out),
            },
            Ok(None) => Effect::Keep,
            Err(error) => {
                if self.verdict.lookup_error.is_none() {
                    self.verdict.lookup_error = Some(line.param.to_string());
                }
                out(Output::LookupError {
                    param: line.param,
                    error,
                });
                Effect::Keep
            }
        }
    }

    /// A delivery agent's action: edit or log, nothing else.
    fn deliver(&mut self, value: &str, line: &Line<'_>, out: &mut Out<'_>) -> Effect {
        let action = Action::parse(value);
        if !action.is_for_delivery() {
            out(Output::Warning(format!(
                "unsupported command in {} map: {value}",
                line.param
            )));
            return Effect::Keep;
        }
        edit(action, line, out)
    }

    /// cleanup's action: decide the message's fate, or edit the line.
    fn decide(&mut self, value: &str, line: &Line<'_>, out: &mut Out<'_>) -> Effect {
        let param = line.param;
        let warn = |out: &mut Out<'_>, text: String| out(Output::Warning(text));
        let verdict = &mut self.verdict;
        match Action::parse(value) {
            Action::Reject(text) => {
                let (rejection, warning) = Rejection::from_action(&text);
                if let Some(warning) = warning {
                    warn(out, warning);
                }
                line.log(out, LogAction::Reject, &rejection.reason());
                verdict.reject = Some(rejection);
                self.inspecting = false;
            }
            Action::Filter(text) if text.is_empty() => {
                warn(
                    out,
                    format!("missing FILTER command argument in {param} map"),
                );
            }
            Action::Filter(text) if !text.contains(':') => warn(
                out,
                format!("bad FILTER command {text} in {param} -- need transport:destination"),
            ),
            Action::Filter(text) => {
                line.log(out, LogAction::Filter, &text);
                verdict.filter = Some(text);
            }
            Action::Pass(text) => {
                line.log(out, LogAction::Pass, &text);
                verdict.passed = true;
                self.inspecting = false;
            }
            Action::Discard(text) => {
                line.log(out, LogAction::Discard, &text);
                verdict.discard = true;
                self.inspecting = false;
            }
            Action::Hold(text) => {
                if verdict.hold.is_none() && !verdict.discard {
                    line.log(out, LogAction::Hold, &text);
                    verdict.hold = Some(text);
                }
            }
            Action::Redirect(text) if !text.contains('@') => warn(
                out,
                format!("bad REDIRECT target \"{text}\" in {param} map -- need user@domain"),
            ),
            Action::Bcc(text) if !text.contains('@') => warn(
                out,
                format!("bad BCC address \"{text}\" in {param} map -- need user@domain"),
            ),
            Action::Redirect(text) => {
                line.log(out, LogAction::Redirect, &text);
                verdict.redirect = Some(text);
                self.inspecting = false;
            }
            Action::Bcc(text) => {
                line.log(out, LogAction::Bcc, &text);
                verdict.bcc.push(text);
            }
            Action::Unknown(_) => warn(out, format!("unknown command in {param} map: {value}")),
            other => return edit(other, line, out),
        }
        Effect::Keep
    }
}

/// The line a rule matched.
#[derive(Debug)]
struct Line<'a> {
    context: Context,
    content: &'a [u8],
    param: &'a str,
}

impl Line<'_> {
    fn log(&self, out: &mut Out<'_>, action: LogAction, text: &str) {
        out(Output::Logged(Logged {
            action,
            context: self.context,
            content: self.content,
            text: text.to_string(),
        }));
    }
}

/// The actions that edit or log the line, the same for every profile.
fn edit(action: Action, line: &Line<'_>, out: &mut Out<'_>) -> Effect {
    match action {
        Action::Warn(text) => line.log(out, LogAction::Warning, &text),
        Action::Info(text) => line.log(out, LogAction::Info, &text),
        Action::Prepend(text) => {
            match line_text_problem("PREPEND", &text, line.context, line.param) {
                Some(problem) => out(Output::Warning(problem)),
                None => {
                    line.log(out, LogAction::Prepend, &text);
                    out(Output::Prepend {
                        context: line.context,
                        text: &text,
                    });
                }
            }
        }
        Action::Replace(text) => {
            match line_text_problem("REPLACE", &text, line.context, line.param) {
                Some(problem) => out(Output::Warning(problem)),
                None => {
                    line.log(out, LogAction::Replace, &text);
                    return Effect::Replace(text);
                }
            }
        }
        Action::Strip(text) => {
            line.log(out, LogAction::Strip, &text);
            return Effect::Drop;
        }
        Action::Ignore => return Effect::Drop,
        _ => {}
    }
    Effect::Keep
}

/// The MIME options cleanup walks with (Postfix `cleanup_message`): the
/// strict_* parameters, and nesting reports whenever they or header
/// checks are on. `inspect` is false for mail that is not inspected
/// (bounces, forwarded mail, receive_override_options).
pub fn cleanup_mime_options(
    config: &conf::Config,
    maps: &Maps,
    inspect: bool,
) -> Result<mime::Options, conf::config::Error> {
    if config.get_bool("disable_mime_input_processing")? {
        return Ok(mime::Options {
            disable_mime: true,
            ..mime::Options::default()
        });
    }
    if !inspect {
        return Ok(mime::Options::default());
    }
    let strict_8bitmime = config.get_bool("strict_8bitmime")?;
    let strict_headers = config.get_bool("strict_7bit_headers")?;
    let strict_body = config.get_bool("strict_8bitmime_body")?;
    let strict_encoding = config.get_bool("strict_mime_encoding_domain")?;
    Ok(mime::Options {
        report_8bit_in_header: strict_8bitmime || strict_headers,
        report_8bit_in_7bit_body: strict_8bitmime || strict_body,
        report_encoding_domain: strict_encoding,
        report_nesting: strict_8bitmime
            || strict_headers
            || strict_body
            || strict_encoding
            || maps.has_header_checks(),
        ..mime::Options::default()
    })
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::checks::Family;
    use crate::mime::HeaderTable;

    fn config(overrides: &[(&str, &str)]) -> conf::Config {
        let overrides: Vec<(String, String)> = overrides
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect();
        let main = conf::main_cf::MainCf::default();
        conf::Config::with_main(Path::new("/nonexistent"), main, &overrides)
    }

    #[test]
    fn configuration_follows_postconf_defaults() {
        let config = config(&[
            ("header_checks", "static:dunno"),
            ("strict_7bit_headers", "yes"),
        ]);
        let (maps, warnings) = Maps::from_config(&config, Family::Cleanup).unwrap();
        assert!(warnings.is_empty(), "{warnings:?}");
        for class in [
            HeaderClass::Primary,
            HeaderClass::Multipart,
            HeaderClass::Nested,
        ] {
            assert!(
                maps.header(class).is_some(),
                "{class:?} defaults to $header_checks"
            );
        }
        assert!(maps.body().is_none());
        assert_eq!(maps.body_size_limit(), 51200);
        let options = cleanup_mime_options(&config, &maps, true).unwrap();
        assert!(options.report_8bit_in_header && options.report_nesting);
        assert!(!options.report_8bit_in_7bit_body && !options.downgrade);
        assert_eq!(
            cleanup_mime_options(&config, &maps, false).unwrap(),
            mime::Options::default()
        );
        assert_eq!(Limits::from_config(&config).unwrap(), Limits::default());
        let table = HeaderTable::from_config(&config).unwrap();
        assert_eq!(table, HeaderTable::default());
        let (smtp, _) = Maps::from_config(&config, Family::Smtp).unwrap();
        assert!(smtp.is_empty());
    }
}

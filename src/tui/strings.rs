//! The console's longer messages, in one place.

/// Email is asked for but there is no `[smtp]` section.
pub const NO_SMTP: &str = "Email is off: there is no [smtp] section in config.toml (breachdesk config init shows an example). Notify by phone or in person and record it with N";
/// A key that would send while a send is in flight.
pub const MAIL_BUSY: &str = "A notice is being sent; wait for it to finish";
/// The preview was dismissed before confirming.
pub const NOT_SENT: &str = "Not sent; nothing was queued";
/// Shown while the send runs.
pub const SENDING: &str = "sending… (the clocks keep running; nothing else waits)";
/// A data supply from elsewhere than the requests pane.
pub const SELECT_REQUEST: &str =
    "Select an open request in the Data requests pane first (Tab to it), then E";
/// The 1-hour deadline passed while the notification was on screen.
pub const LATE_NOW: &str = "The 1-hour deadline has passed while this was on screen: Esc, then compose it again with the reason for the delay (nothing was sent)";

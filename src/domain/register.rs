//! The notice register: every notice sent or received for an incident, in
//! time order, built from what the record already holds (the 8.1
//! notification, the other party's notice to us, the email notices with
//! their Message-IDs, and notices recorded by hand).

use crate::domain::incident::{
    Channel, DeliveryState, Direction, Incident, NoticeKind, NoticeParty, PartyRole, Requester,
};
use chrono::{DateTime, Utc};
use serde::Serialize;

/// One line of the register.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RegisterEntry {
    pub direction: Direction,
    pub party: NoticeParty,
    /// `email`, `phone`, `in-person`, `letter`, `portal` or `other`.
    pub channel: String,
    pub at: DateTime<Utc>,
    /// What the notice was, e.g. "8.1 notification", "8.2.1 (e) data supply R1".
    pub what: String,
    /// A Message-ID, a call reference, a case number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// Who recorded it, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recorded_by: Option<String>,
    /// For email breachdesk sent: pending, sent, failed or cancelled.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delivery: Option<DeliveryState>,
}

fn party_of(role: PartyRole) -> NoticeParty {
    match role {
        PartyRole::Client => NoticeParty::Client,
        PartyRole::ServiceProvider => NoticeParty::ServiceProvider,
    }
}

fn channel_word(c: Channel) -> String {
    c.as_str().to_string()
}

/// The register of `incident`, oldest first. Cancelled email notices are
/// listed (with their state): the register says what was attempted.
pub fn register(incident: &Incident) -> Vec<RegisterEntry> {
    let other = party_of(incident.our_role.other_party());
    let mut out = Vec::new();
    if let Some(r) = &incident.notice_received {
        out.push(RegisterEntry {
            direction: Direction::Received,
            party: other,
            channel: channel_word(r.channel),
            at: r.received_at,
            what: format!("8.1 notification received from {}", r.from.trim()),
            reference: r.reference.clone(),
            recorded_by: Some(r.recorded_by.clone()),
            delivery: None,
        });
    }
    let n = &incident.notification;
    if let Some(made) = n.made_at {
        // An emailed notification appears once, as its email notice.
        let emailed = n
            .reference
            .as_deref()
            .is_some_and(|r| incident.notices.iter().any(|x| x.message_id == r));
        if !emailed {
            out.push(RegisterEntry {
                direction: Direction::Sent,
                party: other,
                channel: n
                    .channel
                    .map(channel_word)
                    .unwrap_or_else(|| "other".into()),
                at: made,
                what: match &n.recipient {
                    Some(to) => format!("8.1 notification to {}", to.trim()),
                    None => "8.1 notification".into(),
                },
                reference: n.reference.clone(),
                recorded_by: n.made_by.clone(),
                delivery: None,
            });
        }
    }
    for x in &incident.notices {
        let (party, what) = match x.kind {
            NoticeKind::Notification => (other, "8.1 notification".to_string()),
            NoticeKind::Update => (other, "update".to_string()),
            NoticeKind::FullReport => (other, "8.2.1 (f) full details".to_string()),
            NoticeKind::DataSupply => {
                let id = x.request_id.clone().unwrap_or_default();
                let to = incident
                    .data_requests
                    .iter()
                    .find(|r| r.id == id)
                    .map(|r| r.deliver_to);
                let party = match to {
                    Some(Requester::GovCertUk) => NoticeParty::GovCertUk,
                    _ => other,
                };
                (
                    party,
                    format!("8.2.1 (e) data supply {id}").trim().to_string(),
                )
            }
        };
        out.push(RegisterEntry {
            direction: Direction::Sent,
            party,
            channel: "email".into(),
            at: x.accepted_at.unwrap_or(x.queued_at),
            what,
            reference: Some(x.message_id.clone()),
            recorded_by: x.recorded_by.clone(),
            delivery: Some(x.state),
        });
    }
    for g in &incident.other_notices {
        let mut what = g.summary.trim().to_string();
        if what.is_empty() {
            what = format!("{} {}", g.id, g.party);
        } else {
            what = format!("{}: {}", g.id, what);
        }
        if !g.counterpart.trim().is_empty() {
            what.push_str(&format!(" ({})", g.counterpart.trim()));
        }
        out.push(RegisterEntry {
            direction: g.direction,
            party: g.party,
            channel: g.channel.as_str().to_string(),
            at: g.at,
            what,
            reference: g.reference.clone(),
            recorded_by: Some(g.recorded_by.clone()),
            delivery: None,
        });
    }
    out.sort_by_key(|e| e.at);
    out
}

/// One line per entry, for text and Markdown: "2026-11-28 14:10 UTC sent to client by email: ...".
pub fn line(e: &RegisterEntry, tz: chrono_tz::Tz) -> String {
    let dir = match e.direction {
        Direction::Sent => "sent to",
        Direction::Received => "received from",
    };
    let mut s = format!(
        "{} {} {} by {}: {}",
        e.at.with_timezone(&tz).format("%Y-%m-%d %H:%M %Z"),
        dir,
        e.party,
        e.channel,
        e.what
    );
    if let Some(r) = &e.reference {
        s.push_str(&format!(" [ref {r}]"));
    }
    if let Some(d) = e.delivery
        && d != DeliveryState::Sent
    {
        s.push_str(&format!(" ({d})"));
    }
    if let Some(by) = &e.recorded_by {
        s.push_str(&format!(", recorded by {by}"));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::incident::{
        BreachKind, Channel, NewIncident, NoticeChannel, NoticeReceived, NoticeRecord, OtherNotice,
        Severity,
    };

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .map(|d| d.with_timezone(&Utc))
            .expect("time")
    }

    fn incident(role: PartyRole) -> Incident {
        Incident::new(
            "INC-20260310-1400-abcdef".into(),
            NewIncident {
                title: "Admin portal login".into(),
                summary: String::new(),
                kind: BreachKind::Breach,
                severity: Severity::High,
                personal_data: true,
                government_data: false,
                affected_assets: Vec::new(),
                identified_at: at("2026-03-10T14:00:00Z"),
            },
            "alice",
            role,
            at("2026-03-10T14:02:00Z"),
        )
        .expect("incident")
    }

    fn email(kind: NoticeKind, message_id: &str, when: &str) -> NoticeRecord {
        NoticeRecord {
            uid: String::new(),
            id: "N-1".into(),
            kind,
            message_id: message_id.into(),
            to: vec!["csr@client.example".into()],
            cc: Vec::new(),
            subject: String::new(),
            queued_at: at(when),
            state: DeliveryState::Sent,
            attempts: 1,
            accepted_at: Some(at(when)),
            server_reply: None,
            request_id: None,
            again_reason: None,
            cancel_reason: None,
            recorded_by: Some("alice".into()),
        }
    }

    #[test]
    fn an_emailed_notification_appears_once_and_a_phoned_one_appears() {
        let mut i = incident(PartyRole::ServiceProvider);
        i.notification.made_at = Some(at("2026-03-10T14:20:00Z"));
        i.notification.channel = Some(Channel::Email);
        i.notification.reference = Some("<a@x>".into());
        i.notices.push(email(
            NoticeKind::Notification,
            "<a@x>",
            "2026-03-10T14:20:00Z",
        ));
        let r = register(&i);
        assert_eq!(r.len(), 1, "{r:#?}");
        assert_eq!(r[0].party, NoticeParty::Client);
        assert_eq!(r[0].reference.as_deref(), Some("<a@x>"));

        let mut phoned = incident(PartyRole::ServiceProvider);
        phoned.notification.made_at = Some(at("2026-03-10T14:30:00Z"));
        phoned.notification.made_by = Some("bob".into());
        phoned.notification.channel = Some(Channel::Phone);
        let r = register(&phoned);
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].channel, "phone");
        assert_eq!(r[0].recorded_by.as_deref(), Some("bob"));
        assert_eq!(r[0].direction, Direction::Sent);
    }

    #[test]
    fn received_and_hand_recorded_notices_are_in_time_order() {
        let mut i = incident(PartyRole::Client);
        i.notice_received = Some(NoticeReceived {
            received_at: at("2026-03-10T14:05:00Z"),
            from: "Provider SOC".into(),
            channel: Channel::Phone,
            reference: Some("CALL-1".into()),
            recorded_by: "alice".into(),
            recorded_at: at("2026-03-10T14:06:00Z"),
            source: None,
        });
        i.other_notices.push(OtherNotice {
            uid: String::new(),
            id: "G1".into(),
            direction: Direction::Sent,
            party: NoticeParty::Ico,
            channel: NoticeChannel::Portal,
            at: at("2026-03-10T14:01:00Z"),
            counterpart: String::new(),
            reference: Some("ICO-1".into()),
            summary: "initial report".into(),
            recorded_by: "alice".into(),
            recorded_at: at("2026-03-10T14:10:00Z"),
        });
        let r = register(&i);
        assert_eq!(r.len(), 2);
        assert_eq!(r[0].party, NoticeParty::Ico);
        assert_eq!(r[1].party, NoticeParty::ServiceProvider);
        assert_eq!(r[1].direction, Direction::Received);
        let text = line(&r[0], chrono_tz::Europe::London);
        assert!(
            text.contains(
                "sent to ico by portal: G1: initial report [ref ICO-1], recorded by alice"
            ),
            "{text}"
        );
    }

    #[test]
    fn records_from_before_the_register_still_read() {
        // No other_notices, no details, no recorded_by on a notice.
        let i = incident(PartyRole::ServiceProvider);
        let mut text = toml::to_string(&i).expect("toml");
        assert!(!text.contains("other_notices"));
        text = text.replace("[details]\n", "[old_details_gone]\n");
        let cut = text
            .find("[old_details_gone]")
            .map(|n| &text[..n])
            .unwrap_or(&text);
        let back: Incident = toml::from_str(cut).expect("old record reads");
        assert!(back.other_notices.is_empty());
        assert_eq!(back.details, Default::default());
    }
}

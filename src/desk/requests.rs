//! 8.2.1 (e) data requests: received, with their 2-Working-Day clock, and
//! supplied.

use super::*;

/// An 8.2.1 (e) data request, as the responder gives it. The request is
/// the Client's (its authority); `requester_name` is who asked.
#[derive(Debug, Clone)]
pub struct NewDataRequest {
    pub requester_name: String,
    pub deliver_to: DataDestination,
    pub what: String,
    pub received_at: DateTime<Utc>,
    /// e.g. the Message-ID of the email that made the request.
    pub reference: Option<String>,
}

impl Desk {
    /// Adds a paragraph 8.2.1 (e) data request made on the Client's
    /// request, for delivery to `deliver_to`; it is due 2 Working Days after
    /// receipt.
    pub fn add_request(
        &self,
        id: &str,
        deliver_to: Requester,
        requester_name: &str,
        what: &str,
        received_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Changed, DeskError> {
        self.add_data_request(
            id,
            NewDataRequest {
                requester_name: requester_name.to_string(),
                deliver_to,
                what: what.to_string(),
                received_at,
                reference: None,
            },
            now,
        )
    }

    /// Adds a paragraph 8.2.1 (e) data request: who asked, on the Client's
    /// authority, and where the data goes. Due 2 Working Days after receipt.
    pub fn add_data_request(
        &self,
        id: &str,
        input: NewDataRequest,
        now: DateTime<Utc>,
    ) -> Result<Changed, DeskError> {
        let what = input.what.trim();
        if what.is_empty() {
            return Err(missing("say what data was asked for"));
        }
        let received_at = input.received_at;
        if received_at > now {
            return Err(invalid(format!(
                "received at {} is in the future",
                stamp(received_at)
            )));
        }
        let due_at = self
            .calendar
            .working_days_after(received_at, DATA_REQUEST_WORKING_DAYS);
        let actor = self.actor.clone();
        let requester_name = input.requester_name.trim().to_string();
        self.change(id, now, "request.added", |incident| {
            let request = DataRequest {
                uid: String::new(),
                id: incident.next_request_id(),
                requester_name: requester_name.clone(),
                authority: RequestAuthority::Client,
                deliver_to: input.deliver_to,
                received_at,
                what: what.to_string(),
                due_at,
                status: RequestStatus::Open,
                supplied_at: None,
                supplied_how: None,
                no_charge: true,
                attachments: Vec::new(),
                reference: input.reference.clone(),
                ended: None,
            };
            let text = format!(
                "Data request {} on the Client's request{} received {}: {} (to {}; due {}, 8.2.1 e){}",
                request.id,
                if requester_name.is_empty() {
                    String::new()
                } else {
                    format!(", asked by {requester_name}")
                },
                stamp(received_at),
                what,
                input.deliver_to.label(),
                stamp(due_at),
                input
                    .reference
                    .as_deref()
                    .map(|r| format!(" ref {r}"))
                    .unwrap_or_default()
            );
            crate::domain::uid::push(&mut incident.data_requests, request);
            if let Some(step) = incident.steps.iter_mut().find(|s| {
                s.fills.contains(&RecordField::DataRequests) && s.status == StepStatus::Todo
            }) {
                step.status = StepStatus::InProgress;
                step.updated_at = Some(now);
                step.who = Some(actor.clone());
            }
            incident.log(now, &actor, EntryKind::Change, text.clone());
            Ok(text)
        })
        .map(|mut changed| {
            changed.warnings.extend(self.calendar.closed_on(due_at));
            changed
        })
    }

    /// Marks a data request supplied (free of charge), optionally with the
    /// files supplied, fixed by size and SHA-256.
    pub fn supply_request(
        &self,
        id: &str,
        request: &str,
        supplied_at: DateTime<Utc>,
        how: &str,
        files: &[PathBuf],
        now: DateTime<Utc>,
    ) -> Result<Changed, DeskError> {
        if how.trim().is_empty() {
            return Err(missing(
                "say how the data was supplied (e.g. 'email to csr@client')",
            ));
        }
        let attachments = files
            .iter()
            .map(|f| evidence_file(f, &self.actor, now))
            .collect::<Result<Vec<_>, _>>()?;
        let actor = self.actor.clone();
        self.change(id, now, "request.supplied", |incident| {
            let incident_id = incident.id.clone();
            let r = incident.request_mut(request).ok_or_else(|| {
                not_found(format!("{incident_id} has no data request '{request}'"))
            })?;
            if r.status != RequestStatus::Open {
                return Err(wrong_state(format!(
                    "request {} is already {}",
                    r.id, r.status
                )));
            }
            r.status = RequestStatus::Supplied;
            r.supplied_at = Some(supplied_at);
            r.supplied_how = Some(how.trim().to_string());
            r.no_charge = true;
            for file in attachments {
                crate::domain::uid::push(&mut r.attachments, file);
            }
            let late = supplied_at > r.due_at;
            let text = format!(
                "Data request {} supplied {} by {} without charge{}",
                r.id,
                stamp(supplied_at),
                how.trim(),
                if late {
                    " (after its 2 Working Day deadline)"
                } else {
                    ""
                }
            );
            incident.log(now, &actor, EntryKind::Change, text.clone());
            Ok(text)
        })
    }
}

impl Desk {
    /// Records that an open data request ends without the data being
    /// supplied: withdrawn by the Client, or not supplied, with the reason.
    /// Works on open and closed incidents; the request's 2-Working-Day
    /// clock stops, so it leaves the board, `list` and reminders. Refused
    /// without a reason, for a time in the future or before the request was
    /// received, and for a request already supplied or ended.
    pub fn end_request(
        &self,
        id: &str,
        request: &str,
        ending: RequestEnding,
        reason: &str,
        at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Changed, DeskError> {
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(missing(match ending {
                RequestEnding::WithdrawnByClient => {
                    "say how the Client withdrew the request (--reason)"
                }
                RequestEnding::NotSupplied => "say why the data is not supplied (--reason)",
            }));
        }
        if at > now {
            return Err(invalid(format!("{} is in the future", stamp(at))));
        }
        let actor = self.actor.clone();
        let action = match ending {
            RequestEnding::WithdrawnByClient => "request.withdrawn",
            RequestEnding::NotSupplied => "request.not-supplied",
        };
        self.change(id, now, action, |incident| {
            let incident_id = incident.id.clone();
            let r = incident.request_mut(request).ok_or_else(|| {
                not_found(format!("{incident_id} has no data request '{request}'"))
            })?;
            match r.status {
                RequestStatus::Open => {}
                RequestStatus::Supplied => {
                    return Err(wrong_state(format!(
                        "request {} was supplied{}; a supplied request cannot be withdrawn or marked not supplied",
                        r.id,
                        r.supplied_at
                            .map(|at| format!(" at {}", stamp(at)))
                            .unwrap_or_default()
                    )));
                }
                RequestStatus::Withdrawn | RequestStatus::NotSupplied => {
                    return Err(wrong_state(format!(
                        "request {} is already {}",
                        r.id,
                        match r.status {
                            RequestStatus::Withdrawn => "withdrawn by the Client",
                            _ => "recorded as not supplied",
                        }
                    )));
                }
            }
            if at < r.received_at {
                return Err(invalid(format!(
                    "{} is before request {} was received ({})",
                    stamp(at),
                    r.id,
                    stamp(r.received_at)
                )));
            }
            r.status = ending.status();
            r.ended = Some(RequestEnded {
                at,
                by: actor.clone(),
                reason: reason.to_string(),
            });
            let text = match ending {
                RequestEnding::WithdrawnByClient => format!(
                    "Data request {} withdrawn by the Client {}: {reason} (its 8.2.1 e clock stops)",
                    r.id,
                    stamp(at)
                ),
                RequestEnding::NotSupplied => format!(
                    "Data request {} not supplied (decided {}): {reason} (its 8.2.1 e clock stops)",
                    r.id,
                    stamp(at)
                ),
            };
            incident.log(now, &actor, EntryKind::Change, text.clone());
            Ok(text)
        })
    }
}

//! Command handlers: what each [`Cmd`] from the keymap does to the state,
//! and the desk jobs it asks for (forms open here and are submitted here).

use super::{App, Context, Job, Overlay, Pane, Screen};
use crate::domain::incident::{RequestStatus, StepStatus};
use crate::domain::summary::IncidentSummary;
use crate::tui::form::Form;
use crate::tui::jobs::JobKind;
use crate::tui::keymap::Cmd;
use crate::tui::strings;
use chrono::{DateTime, Utc};

impl App {
    pub(super) fn command(&mut self, cmd: Cmd, now: DateTime<Utc>) -> Vec<Job> {
        match cmd {
            Cmd::Quit => match self.quit_needs_asking(now) {
                Some(why) => self.overlays.push(Overlay::ConfirmQuit(why)),
                None => self.quit = true,
            },
            Cmd::Help => self.overlays.push(Overlay::Help),
            Cmd::Up => self.move_selection(false),
            Cmd::Down => self.move_selection(true),
            Cmd::Back if self.context() == Context::Preview => {
                let sending = self.preview().is_some_and(|p| p.sending);
                self.overlays.close_preview();
                // A send goes on; its result comes to the status line.
                self.say(if sending {
                    strings::SENDING
                } else {
                    strings::NOT_SENT
                });
            }
            Cmd::Back if self.context() == Context::Outbox => {
                self.overlays.remove(|o| matches!(o, Overlay::Outbox))
            }
            Cmd::Back => match self.screen {
                Screen::Board => {
                    self.board.filter.clear();
                    self.overlays.remove(|o| matches!(o, Overlay::Filter));
                }
                Screen::Incident => {
                    self.screen = Screen::Board;
                    let job = self.job(
                        now,
                        JobKind::LoadBoard {
                            closed: self.board.show_closed,
                        },
                    );
                    return vec![job];
                }
            },
            Cmd::Open => {
                let id = self
                    .board
                    .visible()
                    .get(self.board.selected)
                    .map(|s| s.id.clone());
                if let Some(id) = id {
                    return self.show_incident(id, None, now);
                }
            }
            Cmd::NewIncident => self.open_form(Form::new_incident_with(self.severity_help.clone())),
            Cmd::ToggleClosed => {
                self.board.show_closed = !self.board.show_closed;
                self.board.selected = 0;
                // Closed incidents' rows are read only when asked for.
                return vec![self.job(
                    now,
                    JobKind::LoadBoard {
                        closed: self.board.show_closed,
                    },
                )];
            }
            Cmd::Filter => self.overlays.push(Overlay::Filter),
            Cmd::Sync => return self.sync_now(now),
            Cmd::Refresh => {
                let mut jobs = vec![self.job(
                    now,
                    JobKind::LoadBoard {
                        closed: self.board.show_closed,
                    },
                )];
                if self.screen == Screen::Incident
                    && let Some(id) = self.incident.as_ref().map(|s| s.id.clone())
                {
                    jobs.push(self.job(now, JobKind::LoadIncident(id)));
                }
                return jobs;
            }
            Cmd::NextPane | Cmd::PrevPane => {
                if let Some(screen) = &mut self.incident {
                    let n = Pane::ALL.len();
                    let i = screen.pane.index();
                    let i = if cmd == Cmd::NextPane {
                        (i + 1) % n
                    } else {
                        (i + n - 1) % n
                    };
                    screen.pane = Pane::ALL[i];
                }
            }
            Cmd::Log => self.open_form(Form::log()),
            Cmd::AddRequest => self.open_form(Form::add_request()),
            Cmd::SupplyRequest => {
                let screen = self.incident.as_ref();
                let on_requests = screen.is_some_and(|s| s.pane == Pane::Requests);
                let request = screen.and_then(|s| {
                    s.record
                        .as_ref()
                        .and_then(|r| r.data_requests.get(s.request))
                        .map(|r| (r.id.clone(), r.status))
                });
                match request {
                    Some((id, RequestStatus::Open)) if on_requests => {
                        self.open_form(Form::supply(&id))
                    }
                    Some((id, status)) if on_requests => {
                        self.complain(format!("Request {id} is already {status}"))
                    }
                    _ => self.complain("Select an open request in the Data requests pane first"),
                }
            }
            Cmd::StepDone => return self.step_status(StepStatus::Done, now),
            Cmd::StepInProgress => return self.step_status(StepStatus::InProgress, now),
            Cmd::StepNotApplicable => return self.step_status(StepStatus::NotApplicable, now),
            Cmd::StepTodo => return self.step_status(StepStatus::Todo, now),
            Cmd::StepNote => match self.selected_step() {
                Some(step) => self.open_form(Form::step_note(&step)),
                None => self.complain("No step selected"),
            },
            Cmd::RootCause => {
                if let Some(form) = self.record().map(Form::root_cause) {
                    self.open_form(form);
                }
            }
            Cmd::Mitigation => {
                if let Some(form) = self.record().map(Form::mitigation) {
                    self.open_form(form);
                }
            }
            Cmd::Isms => {
                if let Some(form) = self.record().map(Form::isms) {
                    self.open_form(form);
                }
            }
            Cmd::RcaRequired => {
                if let Some(form) = self.record().map(Form::rca_required) {
                    self.open_form(form);
                }
            }
            Cmd::AssignRole => {
                if let Some(form) = self.record().map(Form::assign_role) {
                    self.open_form(form);
                }
            }
            Cmd::HandOver => {
                if self.record().is_some() {
                    self.open_form(Form::hand_over());
                }
            }
            Cmd::AcknowledgeHandover => {
                let waiting = self.record().map(|r| {
                    (
                        r.id.clone(),
                        crate::domain::incident::pending_handovers(&r.handovers).len(),
                    )
                });
                match waiting {
                    Some((id, n)) if n > 0 => {
                        return vec![self.job(now, JobKind::AcknowledgeHandovers(id))];
                    }
                    Some(_) => self.complain("No handover is waiting to be acknowledged"),
                    None => {}
                }
            }
            Cmd::RecordNotification => {
                if self.record().is_some_and(|r| !r.we_notify()) {
                    self.complain(
                        "The other party identified this breach and notified us: no 8.1 notification is due from us",
                    )
                } else if self
                    .record()
                    .is_some_and(|r| r.notification.made_at.is_some())
                {
                    self.complain("The notification is already recorded; log any further notice")
                } else {
                    let form = Form::notify(self.other_party.as_deref());
                    self.open_form(form);
                }
            }
            Cmd::SendNoticeByEmail => self.send_notice_by_email(),
            Cmd::ConfirmSend => return self.confirm_send(now),
            Cmd::Top | Cmd::Bottom => {
                let len = self.board.visible().len();
                self.board.selected = if cmd == Cmd::Top {
                    0
                } else {
                    len.saturating_sub(1)
                };
            }
            Cmd::PageUp | Cmd::PageDown
                if self.screen == Screen::Board
                    && self.preview().is_none()
                    && !self.outbox_open() =>
            {
                let len = self.board.visible().len();
                let page = self.board.page.get().max(1);
                self.board.selected = if cmd == Cmd::PageDown {
                    (self.board.selected + page).min(len.saturating_sub(1))
                } else {
                    self.board.selected.saturating_sub(page)
                };
            }
            Cmd::DetailDown | Cmd::DetailUp => {
                if let Some(screen) = &mut self.incident
                    && screen.pane == Pane::Timeline
                {
                    let at = screen.detail_offset();
                    let page = 5;
                    let to = if cmd == Cmd::DetailDown {
                        at.saturating_add(page).min(screen.detail_room.get())
                    } else {
                        at.saturating_sub(page)
                    };
                    screen.detail_scroll = (screen.entry, to);
                } else {
                    self.complain(format!(
                        "{} scroll a timeline entry: Tab to the timeline first",
                        crate::tui::keymap::label(Context::Incident, Cmd::DetailDown)
                    ));
                }
            }
            Cmd::PageUp | Cmd::PageDown => {
                if let Some(preview) = self.overlays.preview_mut() {
                    preview.scroll = if cmd == Cmd::PageDown {
                        preview.scroll.saturating_add(10).min(preview.lines())
                    } else {
                        preview.scroll.saturating_sub(10)
                    };
                }
            }
            Cmd::Outbox => {
                self.overlays.push(Overlay::Outbox);
                self.outbox_selected = 0;
                return vec![self.quiet_job(now, JobKind::LoadOutbox)];
            }
            Cmd::RetryNotice => {
                let id = self.outbox.get(self.outbox_selected).map(|r| r.id.clone());
                match id {
                    None => self.complain("Nothing is waiting in the outbox"),
                    Some(_) if !self.mail.smtp => self.complain(strings::NO_SMTP),
                    Some(_) if self.mail_busy.is_some() || self.outbox_round.is_some() => {
                        self.complain(strings::MAIL_BUSY)
                    }
                    Some(id) => {
                        self.say(format!("Retrying {id}; the clocks keep running"));
                        return vec![self.mail_job(now, JobKind::RetryNotice(id))];
                    }
                }
            }
            Cmd::CancelNotice => {
                match self.outbox.get(self.outbox_selected).map(|r| r.id.clone()) {
                    None => self.complain("Nothing is waiting in the outbox"),
                    Some(_) if self.mail_busy.is_some() || self.outbox_round.is_some() => {
                        self.complain(strings::MAIL_BUSY)
                    }
                    Some(id) => self.open_form(Form::cancel_notice(&id)),
                }
            }
            Cmd::CloseOrReopen => {
                let waiting: Vec<String> = match self.record() {
                    Some(record) if record.is_open() => self
                        .outbox
                        .iter()
                        .filter(|n| n.incident_id == record.id)
                        .map(|n| format!("{} ({})", n.kind, n.state.as_str()))
                        .collect(),
                    _ => Vec::new(),
                };
                if waiting.is_empty() {
                    self.open_close_form();
                } else {
                    self.overlays.push(Overlay::ConfirmClose(format!(
                        "{} notice(s) of this incident still wait in the outbox: {}. Closing does not cancel them; they are sent only while the console runs.",
                        waiting.len(),
                        waiting.join(", ")
                    )));
                }
            }
            Cmd::Edit => {
                if let Some(form) = self
                    .record()
                    .map(|r| Form::edit(r, self.tz).with_severity_help(self.severity_help.clone()))
                {
                    self.open_form(form);
                }
            }
            Cmd::StepEvidence => {
                let on_steps = self
                    .incident
                    .as_ref()
                    .is_some_and(|s| s.pane == Pane::Steps);
                match self.selected_step() {
                    Some(step) if on_steps => self.open_form(Form::step_evidence(&step)),
                    _ => self.complain("Step keys work in the Steps pane (Tab to it)"),
                }
            }
            Cmd::FormSubmit => {
                if self.context() == Context::Filter {
                    // Stop typing; the filter stays.
                    self.overlays.pop();
                    return Vec::new();
                }
                return self.submit_form(now);
            }
            Cmd::FormNext => {
                if let Some(form) = self.overlays.form_mut() {
                    form.next();
                }
            }
            Cmd::FormPrev => {
                if let Some(form) = self.overlays.form_mut() {
                    form.prev();
                }
            }
            Cmd::FormChoice => {
                if let Some(form) = self.overlays.form_mut() {
                    form.change_choice(true);
                }
            }
            Cmd::CursorHome
            | Cmd::CursorEnd
            | Cmd::DeleteChar
            | Cmd::KillToStart
            | Cmd::KillWord
            | Cmd::KillToEnd => {}
            Cmd::FormCancel => {
                if self.context() == Context::Filter {
                    self.overlays.pop();
                    self.board.filter.clear();
                    return Vec::new();
                }
                if let Some(form) = self.overlays.form_mut() {
                    if form.is_dirty() {
                        form.confirm_discard = true;
                    } else {
                        self.overlays.close_form();
                    }
                }
            }
        }
        Vec::new()
    }

    /// The close form (or, for a closed incident, the reopen form).
    pub(super) fn open_close_form(&mut self) {
        if let Some(record) = self.record() {
            let form = if record.is_open() {
                Form::close(
                    record
                        .open_required_steps()
                        .filter(|s| s.applies(record))
                        .map(|s| s.id.clone())
                        .collect(),
                )
            } else {
                Form::reopen()
            };
            self.open_form(form);
        }
    }

    /// Why quitting needs a second key: a legal clock still running, or
    /// notices waiting in the outbox (sent only while the console runs).
    pub(super) fn quit_needs_asking(&self, now: DateTime<Utc>) -> Option<String> {
        let mut why = Vec::new();
        // The open record is fresher than the board (whose reload may still
        // be on its way after a change).
        let open = self
            .incident
            .as_ref()
            .and_then(|s| s.record.as_ref())
            .map(|r| IncidentSummary::of(r));
        let running = self
            .board
            .summaries
            .iter()
            .filter(|s| open.as_ref().is_none_or(|o| o.id != s.id))
            .chain(open.iter())
            .filter_map(|s| s.legal_due.as_ref().map(|d| (s, d)))
            .min_by_key(|(_, d)| d.due_at);
        if let Some((s, d)) = running {
            why.push(format!(
                "legal clock running ({} {} {})",
                s.id,
                d.clock,
                crate::domain::clock::format_countdown(d.due_at, now)
            ));
        }
        if !self.outbox.is_empty() {
            why.push(format!(
                "{} notice(s) waiting in the outbox are sent only while the console runs",
                self.outbox.len()
            ));
        }
        (!why.is_empty()).then(|| why.join("; "))
    }

    /// Puts `form` on top (in place of any form open).
    pub(super) fn open_form(&mut self, form: Form) {
        self.overlays.push(Overlay::Form(Box::new(form)));
    }

    pub(super) fn selected_step(&self) -> Option<String> {
        let screen = self.incident.as_ref()?;
        let record = screen.record.as_ref()?;
        crate::domain::playbook::shown_steps(record)
            .get(screen.step)
            .map(|s| s.id.clone())
    }

    pub(super) fn step_status(&mut self, status: StepStatus, now: DateTime<Utc>) -> Vec<Job> {
        let on_steps = self
            .incident
            .as_ref()
            .is_some_and(|s| s.pane == Pane::Steps);
        if !on_steps {
            self.complain("Step keys work in the Steps pane (Tab to it)");
            return Vec::new();
        }
        match (self.selected_step(), self.incident.as_ref()) {
            (Some(step), Some(screen)) => {
                let id = screen.id.clone();
                vec![self.job(
                    now,
                    JobKind::Step {
                        id,
                        step,
                        status: Some(status),
                        evidence: None,
                        note: None,
                    },
                )]
            }
            _ => Vec::new(),
        }
    }

    pub(super) fn submit_form(&mut self, now: DateTime<Utc>) -> Vec<Job> {
        let id = self
            .incident
            .as_ref()
            .map(|s| s.id.clone())
            .unwrap_or_default();
        let tz = self.tz;
        let Some(form) = self.overlays.form_mut() else {
            return Vec::new();
        };
        if form.pending.is_some() {
            return Vec::new();
        }
        if let Some((kind, again)) = form.chosen_notice() {
            return self.notice_chosen(kind, again, now);
        }
        match form.job(&id, now, tz) {
            Ok(mut kind) => {
                if let JobKind::Compose(req) = &mut kind {
                    req.templates = self.mail.templates_dir.clone();
                }
                form.error = None;
                let job = self.job(now, kind);
                if let Some(form) = self.overlays.form_mut() {
                    form.pending = Some(job.seq);
                }
                vec![job]
            }
            Err(e) => {
                form.error = Some(e);
                Vec::new()
            }
        }
    }
}

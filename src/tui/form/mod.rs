//! Forms: the fields a responder types into, each known by a typed
//! [`FieldId`] (its label is only what the screen shows), and turning them
//! into a desk job. No drawing here; see `view/form.rs`.
//!
//! - [`catalogue`]: every form, its fields and their starting values;
//! - [`notices`]: the forms for emailing a notice;
//! - [`editing`]: the cursor and typing in the focused field;
//! - [`submit`]: reading the fields by id into a job.

mod catalogue;
mod editing;
mod notices;
mod submit;
#[cfg(test)]
mod tests;

pub use catalogue::FormKind;
pub use notices::{NOTICE_CHOICES, NOTICE_CHOICES_NOTIFIED, NOTIFY_AGAIN};
pub use submit::expand_path;

/// Which field: what submission reads a value by. The label on screen is
/// [`FieldId::label`]; renaming it changes nothing else.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FieldId {
    Title,
    Summary,
    AddAssets,
    AddResponders,
    Kind,
    Severity,
    PersonalData,
    GovernmentData,
    IdentifiedAt,
    IdentifiedBy,
    ReceivedAt,
    ReceivedFrom,
    Channel,
    Reference,
    Entry,
    At,
    DeliverTo,
    Name,
    What,
    SuppliedAt,
    How,
    Category,
    Component,
    Analysis,
    Prevention,
    TestedHow,
    Tested,
    AffectsKpis,
    ReliefAskedAt,
    ReliefGranted,
    ReliefPeriod,
    NoticeDate,
    NoticeRef,
    EvidenceFile,
    RcaRequired,
    Note,
    Required,
    Description,
    To,
    When,
    DelayReason,
    File,
    Notice,
    FirstActions,
    AgainBecause,
    Cc,
    Files,
    Message,
    Reason,
    NotABreach,
    WhyMoved,
    StartedAt,
    HowDetected,
    ServiceImpact,
    Confidentiality,
    Integrity,
    Availability,
    Containment,
    DataSubjects,
    Categories,
    GovernmentDataIs,
    OthersTold,
    NextUpdate,
    ResidualRisk,
    Lessons,
    Role,
}

use FieldId as F;

impl FieldId {
    /// The field's label on screen (and in its error messages).
    pub const fn label(self) -> &'static str {
        match self {
            F::Title => "Title",
            F::Summary => "Summary",
            F::AddAssets => "Add assets",
            F::AddResponders => "Add responders",
            F::Kind => "Kind",
            F::Severity => "Severity",
            F::PersonalData => "Personal data",
            F::GovernmentData => "Govt. data",
            F::IdentifiedAt => "Identified at",
            F::IdentifiedBy => "Identified by",
            F::ReceivedAt => "Received at",
            F::ReceivedFrom => "Received from",
            F::Channel => "Channel",
            F::Reference => "Reference",
            F::Entry => "Entry",
            F::At => "At",
            F::DeliverTo => "Deliver to",
            F::Name => "Name",
            F::What => "What",
            F::SuppliedAt => "Supplied at",
            F::How => "How",
            F::Category => "Category",
            F::Component => "Component",
            F::Analysis => "Analysis",
            F::Prevention => "Prevention",
            F::TestedHow => "Tested how",
            F::Tested => "Tested",
            F::AffectsKpis => "Affects KPIs",
            F::ReliefAskedAt => "Relief asked at",
            F::ReliefGranted => "Relief granted",
            F::ReliefPeriod => "Relief period",
            F::NoticeDate => "Notice date",
            F::NoticeRef => "Notice ref",
            F::EvidenceFile => "Evidence file",
            F::RcaRequired => "RCA required",
            F::Note => "Note",
            F::Required => "Required",
            F::Description => "Description",
            F::To => "To",
            F::When => "When",
            F::DelayReason => "Delay reason",
            F::File => "File",
            F::Notice => "Notice",
            F::FirstActions => "First actions",
            F::AgainBecause => "Again because",
            F::Cc => "Cc",
            F::Files => "Files",
            F::Message => "Message",
            F::Reason => "Reason",
            F::NotABreach => "Not a breach",
            F::WhyMoved => "Why moved",
            F::StartedAt => "Started at",
            F::HowDetected => "How detected",
            F::ServiceImpact => "Service impact",
            F::Confidentiality => "Confidential.",
            F::Integrity => "Integrity",
            F::Availability => "Availability",
            F::Containment => "Containment",
            F::DataSubjects => "Data subjects",
            F::Categories => "Categories",
            F::GovernmentDataIs => "Govt. data is",
            F::OthersTold => "Others told",
            F::NextUpdate => "Next update",
            F::ResidualRisk => "Residual risk",
            F::Lessons => "Lessons",
            F::Role => "Role",
        }
    }
}

/// A field's value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Text(String),
    /// Multi-line text: Enter types a new line.
    Multi(String),
    Choice {
        options: Vec<&'static str>,
        index: usize,
    },
    Flag(bool),
}

#[derive(Debug, Clone)]
pub struct Field {
    /// Which field (what submission reads it by).
    pub id: FieldId,
    /// What the screen calls it: `id.label()`.
    pub label: &'static str,
    pub hint: std::borrow::Cow<'static, str>,
    pub value: Value,
    initial: Value,
}

fn field(id: FieldId, hint: &'static str, value: Value) -> Field {
    Field {
        id,
        label: id.label(),
        hint: std::borrow::Cow::Borrowed(hint),
        initial: value.clone(),
        value,
    }
}
fn text(id: FieldId, hint: &'static str, initial: &str) -> Field {
    field(id, hint, Value::Text(initial.to_string()))
}
fn choice(id: FieldId, options: Vec<&'static str>, index: usize) -> Field {
    field(id, "←/→ to change", Value::Choice { options, index })
}
fn flag(id: FieldId, on: bool) -> Field {
    field(id, "Space or y/n", Value::Flag(on))
}

/// The KPI relief decision, as the mitigation form offers it.
const RELIEF: [&str; 3] = ["not decided", "granted", "refused"];

/// An open form.
#[derive(Debug, Clone)]
pub struct Form {
    pub kind: FormKind,
    pub title: String,
    pub fields: Vec<Field>,
    pub focus: usize,
    /// The last refusal (bad input or a save error); the text stays.
    pub error: Option<String>,
    /// The job in flight for this form, if saving.
    pub pending: Option<u64>,
    /// "Discard what you typed?" is showing.
    pub confirm_discard: bool,
    /// The cursor in the focused text field, in characters.
    pub cursor: usize,
    /// The focused field still holds its default ("now"), shown
    /// selected: typing or pasting replaces it, Backspace clears it, and a
    /// cursor key keeps it.
    pub selected: bool,
    /// What each severity level means (config `[severity]`), in
    /// `Severity::ALL` order: the Severity field's hint shows the chosen one.
    pub severity_help: Vec<String>,
    /// The fields submission has looked up (for the tests that every form
    /// reads every field it shows, and only those).
    #[cfg(test)]
    reads: std::cell::RefCell<std::collections::BTreeSet<FieldId>>,
}

impl Form {
    fn new(kind: FormKind, title: impl Into<String>, fields: Vec<Field>) -> Form {
        let mut form = Form {
            kind,
            title: title.into(),
            fields,
            focus: 0,
            error: None,
            pending: None,
            confirm_discard: false,
            cursor: 0,
            selected: false,
            severity_help: Vec::new(),
            #[cfg(test)]
            reads: Default::default(),
        };
        form.focus_changed();
        form
    }

    /// Gives the form the severity definitions to show as the Severity
    /// field's hint (the chosen level's).
    pub fn with_severity_help(mut self, help: Vec<String>) -> Form {
        self.severity_help = help;
        self.refresh_severity_hint();
        self
    }

    fn refresh_severity_hint(&mut self) {
        let help = &self.severity_help;
        if let Some(f) = self.fields.iter_mut().find(|f| f.id == F::Severity)
            && let Value::Choice { index, .. } = f.value
            && let Some(text) = help.get(index)
        {
            f.hint = std::borrow::Cow::Owned(format!("←/→ · {text}"));
        }
    }

    /// Whether anything was typed or changed.
    pub fn is_dirty(&self) -> bool {
        self.fields.iter().any(|f| f.value != f.initial)
    }

    pub fn focused(&self) -> Option<&Field> {
        self.fields.get(self.focus)
    }

    pub fn focused_is_multiline(&self) -> bool {
        matches!(self.focused().map(|f| &f.value), Some(Value::Multi(_)))
    }

    pub fn focused_is_text(&self) -> bool {
        matches!(
            self.focused().map(|f| &f.value),
            Some(Value::Text(_) | Value::Multi(_))
        )
    }
}

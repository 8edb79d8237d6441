//! The words an incident record is described in: the kind of breach, its
//! severity and status, our side of the contract, who identified it, whether
//! the Client requires a root-cause analysis, Security Test clauses,
//! root-cause categories, responders' roles and timeline entry kinds.

use crate::domain::kebab::kebab_enum;

kebab_enum! {
    /// Paragraph 8.1 covers actual, potential and attempted breaches alike.
    BreachKind { Breach => "breach", Potential => "potential", Attempted => "attempted" }
}
kebab_enum! {
    /// How bad it is, in the responder's judgement.
    Severity { Low => "low", Medium => "medium", High => "high", Critical => "critical" }
}
kebab_enum! {
    /// Open until closed out.
    IncidentStatus { Open => "open", Closed => "closed" }
}
kebab_enum! {
    /// Which side of the contract we are on.
    PartyRole { ServiceProvider => "service-provider", Client => "client" }
}

kebab_enum! {
    /// Who identified the breach (paragraph 8.1 binds either party to tell the other).
    IdentifiedBy { Us => "us", OtherParty => "other-party" }
}
kebab_enum! {
    /// Whether the Client requires a root-cause analysis (8.2.1 f: "where required by the Client").
    RcaRequired { Unknown => "unknown", Yes => "yes", No => "no" }
}

kebab_enum! {
    /// Which paragraph a Security Test was run under.
    TestClause {
        /// 6.1/6.2: the Service Provider's own test (the Client may witness).
        ServiceProvider => "6.2",
        /// 6.3: a test the Client ran.
        Client => "6.3",
        /// 6.4: a repeat of the relevant tests after changes to the ISMS.
        Repeat => "6.4",
    }
}

kebab_enum! {
    /// Root-cause categories; the repeat check (paragraph 6.5) matches on category + component.
    RootCauseCategory {
        UnpatchedVulnerability => "unpatched-vulnerability",
        Misconfiguration => "misconfiguration",
        WeakAuthentication => "weak-authentication",
        ExcessivePrivilege => "excessive-privilege",
        Phishing => "phishing",
        Malware => "malware",
        InsiderAction => "insider-action",
        LostOrStolenDevice => "lost-or-stolen-device",
        SupplierFailure => "supplier-failure",
        ProcessFailure => "process-failure",
        Other => "other",
    }
}
kebab_enum! {
    /// A responder's role on an incident, held by one person at a time.
    Role {
        IncidentManager => "incident-manager",
        Communications => "communications",
        Scribe => "scribe",
        TechnicalLead => "technical-lead",
    }
}
kebab_enum! {
    /// What kind of timeline entry it is.
    EntryKind {
        Note => "note",
        Change => "change",
        Notice => "notice",
        /// Written by a merge of two copies of the record: a field both
        /// changed differently (the value not kept, in full), or an id renumbered.
        Conflict => "conflict",
    }
}

#[allow(clippy::derivable_impls)] // the enum is declared by a macro
impl Default for IncidentStatus {
    fn default() -> Self {
        IncidentStatus::Open
    }
}

#[allow(clippy::derivable_impls)] // the enum is declared by a macro
impl Default for IdentifiedBy {
    fn default() -> Self {
        IdentifiedBy::Us
    }
}

#[allow(clippy::derivable_impls)] // the enum is declared by a macro
impl Default for RcaRequired {
    fn default() -> Self {
        RcaRequired::Unknown
    }
}

impl Role {
    /// In words, for screens: "incident manager".
    pub fn label(self) -> &'static str {
        match self {
            Role::IncidentManager => "incident manager",
            Role::Communications => "communications",
            Role::Scribe => "scribe",
            Role::TechnicalLead => "technical lead",
        }
    }
}

impl TestClause {
    /// In words, for screens.
    pub fn label(self) -> &'static str {
        match self {
            TestClause::ServiceProvider => "Service Provider's Security Test (6.1/6.2)",
            TestClause::Client => "Client's test (6.3)",
            TestClause::Repeat => "repeat test after ISMS changes (6.4)",
        }
    }
}

impl BreachKind {
    /// In words: "actual breach", "potential breach", "attempted breach".
    pub fn label(self) -> &'static str {
        match self {
            BreachKind::Breach => "actual breach",
            BreachKind::Potential => "potential breach",
            BreachKind::Attempted => "attempted breach",
        }
    }

    /// In the schedule's words. A potential or attempted breach is not a
    /// Breach of Security, but paragraph 8.1 covers it too.
    pub fn contract_label(self) -> &'static str {
        match self {
            BreachKind::Breach => "a Breach of Security",
            BreachKind::Potential => "a potential Breach of Security",
            BreachKind::Attempted => "an attempted Breach of Security",
        }
    }
}

impl PartyRole {
    /// The party that must be notified under paragraph 8.1.
    pub fn other_party(self) -> PartyRole {
        match self {
            PartyRole::ServiceProvider => PartyRole::Client,
            PartyRole::Client => PartyRole::ServiceProvider,
        }
    }
    /// In words, for screens and notices.
    pub fn label(self) -> &'static str {
        match self {
            PartyRole::ServiceProvider => "Service Provider",
            PartyRole::Client => "Client",
        }
    }
}

//! The pure domain: incidents, clocks, the Working-Day calendar and playbooks.
//! Nothing in here touches a terminal, the filesystem or the network.
pub mod calendar;
pub mod clock;
pub mod incident;
pub mod playbook;
pub mod register;
pub mod reminders;
pub mod summary;
pub mod urgency;
pub mod when;

//! TEMPORARY stub until the calendar branch merges.
pub struct WorkingCalendar;

//! The tick end to end: the real tick against the fake BitMEX and a real store, through its
//! normal flow, faults, races between concurrent ticks, backlogs, and a seeded chaos run.

mod backlog;
mod chaos;
mod faults;
mod flatten_race;
mod flow;
mod handler;
mod races;

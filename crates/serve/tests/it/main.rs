//! `recalign serve` end to end on a random tiny T5 over a small shop: every
//! endpoint and error class, authentication, batching (concurrent requests
//! answered as they are alone), and the faults of a real socket (clients
//! that vanish, slow bodies, floods past the queue, shutdown mid-request),
//! and items added at run time (cold start).

mod batching;
mod endpoints;
mod faults;
mod fixture;
mod items;

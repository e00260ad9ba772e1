//! Tests of the flow layer: flow table, TCP reassembly, IP defragmentation, domain map, and
//! replays of real corpus captures (`/work/shared/corpus`) through them.

mod corpus;
mod defrag;
mod domains;
mod reassembly;
mod table;

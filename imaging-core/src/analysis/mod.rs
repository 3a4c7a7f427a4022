//! Analysis of a decoded rendition: facts computed from the pixels.

pub mod colors;
pub mod faces;
pub mod geometry;
pub mod quality;
pub mod signature;

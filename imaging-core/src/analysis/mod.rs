//! Analysis of a decoded rendition: facts computed from the pixels.

pub mod colors;
pub mod crop;
pub mod faces;
pub mod geometry;
pub mod quality;
pub mod roi;
pub mod signature;

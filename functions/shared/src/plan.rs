//! Book layout planning, pure and deterministic: which photos fill a book's slots and how.
//!
//! From each photo's analysis document (size, capture time, GPS, faces, quality, region of
//! interest, signature) and the book's surfaces (pages with slots), [`plan`]:
//! - ranks photos by score: `quality.overall` plus 0.05 a face for up to three faces, times
//!   `0.5 + 0.5 * sqrt(min(1, megapixels / 2))` (small photos print small);
//! - groups near duplicates ([`near_duplicate_groups`] over the signatures);
//! - orders photos by capture time (`sequence`; undated photos last, by key) and cuts that order
//!   into events wherever two consecutive photos are more than `event_gap_hours` apart, or more
//!   than `event_distance_km` apart when both have a position (undated photos form one last event);
//! - selects as many photos as there are slots: first the best photo of every duplicate group,
//!   spread over events in proportion to their distinct photos (each event gets one before any
//!   gets two, while slots last; then D'Hondt), best ranked first within an event; only when
//!   every group has a photo selected do second members of groups come in, by rank;
//! - lays the selected photos out in chronological order: surfaces in `surface_number` order
//!   take the next photos, as many as they have slots; on each surface the photos go to the
//!   slots that suit them best (an exact assignment maximising, per photo and slot: every face
//!   kept, orientation matched — portrait photos to portrait slots —, share of the photo kept,
//!   resolution enough for `dpi_good`);
//! - places each photo in its slot with [`best_crop`] at the slot's aspect ratio (every face
//!   whole where a crop of that ratio can hold them, around the focal point otherwise), and
//!   judges its print resolution: `effective_dpi` = placement width / (slot width / page dpi),
//!   `good` from `dpi_good`, `fair` from `dpi_fair`, `low` below.
//!
//! The same input always gives the same plan: every order is fixed, ties broken by key.

use imaging_core::analysis::crop::{best_crop, AspectRatio};
use imaging_core::analysis::geometry::{Point, Rect};
use imaging_core::analysis::roi::Roi;
use imaging_core::analysis::signature::{near_duplicate_groups, Signature};
use serde::{Deserialize, Serialize};

/// Settings of the planner (defaults in [`PlanSettings::default`]).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PlanSettings {
    /// Effective DPI from which a placement prints `good` (default 250).
    pub dpi_good: f64,
    /// Effective DPI from which a placement prints `fair` (default 150); below it, `low`.
    pub dpi_fair: f64,
    /// A gap in capture time longer than this starts a new event (default 3 h).
    pub event_gap_hours: f64,
    /// A move between consecutive photos longer than this starts a new event (default 30 km).
    pub event_distance_km: f64,
}

impl Default for PlanSettings {
    fn default() -> Self {
        PlanSettings {
            dpi_good: 250.0,
            dpi_fair: 150.0,
            event_gap_hours: 3.0,
            event_distance_km: 30.0,
        }
    }
}

/// A request's changes to the configured [`PlanSettings`]: each field given replaces that
/// setting, the others keep their configured values.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanOverrides {
    /// Replaces [`PlanSettings::dpi_good`].
    pub dpi_good: Option<f64>,
    /// Replaces [`PlanSettings::dpi_fair`].
    pub dpi_fair: Option<f64>,
    /// Replaces [`PlanSettings::event_gap_hours`].
    pub event_gap_hours: Option<f64>,
    /// Replaces [`PlanSettings::event_distance_km`].
    pub event_distance_km: Option<f64>,
}

impl PlanOverrides {
    /// `base` with the fields given here replaced (not validated: see [`PlanSettings::validate`]).
    pub fn over(&self, base: PlanSettings) -> PlanSettings {
        PlanSettings {
            dpi_good: self.dpi_good.unwrap_or(base.dpi_good),
            dpi_fair: self.dpi_fair.unwrap_or(base.dpi_fair),
            event_gap_hours: self.event_gap_hours.unwrap_or(base.event_gap_hours),
            event_distance_km: self.event_distance_km.unwrap_or(base.event_distance_km),
        }
    }
}

impl PlanSettings {
    /// Checks that every value is finite, positive, and `dpi_fair <= dpi_good`.
    pub fn validate(&self) -> Result<(), String> {
        for (name, v) in [
            ("dpi_good", self.dpi_good),
            ("dpi_fair", self.dpi_fair),
            ("event_gap_hours", self.event_gap_hours),
            ("event_distance_km", self.event_distance_km),
        ] {
            if !(v.is_finite() && v > 0.0) {
                return Err(format!("{name} must be a positive number, not {v}"));
            }
        }
        if self.dpi_fair > self.dpi_good {
            return Err(format!(
                "dpi_fair {} is above dpi_good {}",
                self.dpi_fair, self.dpi_good
            ));
        }
        Ok(())
    }

    fn quality(&self, dpi: f64) -> PrintQuality {
        if dpi >= self.dpi_good {
            PrintQuality::Good
        } else if dpi >= self.dpi_fair {
            PrintQuality::Fair
        } else {
            PrintQuality::Low
        }
    }
}

/// Photos of at least this many megapixels score in full; smaller ones are scaled down, to half
/// at the least (a 0.5 MP photo keeps 75%), since they print small.
const FULL_SCORE_MEGAPIXELS: f64 = 2.0;

/// What the planner needs to know of a photo (read from its analysis document).
#[derive(Debug, Clone, PartialEq)]
pub struct PhotoFacts {
    /// The photo's key, as the request names it.
    pub key: String,
    /// Upright width of the original.
    pub width: u32,
    /// Upright height of the original.
    pub height: u32,
    /// SHA-256 of the original the analysis was made from (`None` in an analysis written
    /// before photo-suite recorded it).
    pub sha256: Option<String>,
    /// Capture time as written in the analysis (ISO 8601).
    pub taken_at: Option<String>,
    /// Capture time in seconds: UTC when the camera wrote an offset, its clock otherwise.
    pub time: Option<i64>,
    /// Position `(lat, lon)` in degrees.
    pub gps: Option<(f64, f64)>,
    /// Face boxes, in the upright original's pixels.
    pub faces: Vec<Rect>,
    /// `quality.overall`, 0..1.
    pub quality: f64,
    /// Region of interest and focal point.
    pub roi: Roi,
    /// Near-duplicate signature.
    pub signature: Signature,
}

/// The fields of an analysis document the planner reads (others are ignored).
#[derive(Deserialize)]
struct AnalysisDoc {
    width: u32,
    height: u32,
    #[serde(default)]
    sha256: Option<String>,
    taken_at: Option<String>,
    gps: Option<GpsDoc>,
    faces: Vec<Rect>,
    quality: QualityDoc,
    roi: Rect,
    focal_point: Point,
    signature: Signature,
}

#[derive(Deserialize)]
struct GpsDoc {
    lat: f64,
    lon: f64,
}

#[derive(Deserialize)]
struct QualityDoc {
    overall: f64,
}

impl PhotoFacts {
    /// Reads an analysis document (`analysis/K.json`) written by ingest with pixel analysis.
    pub fn from_analysis(key: &str, json: &[u8]) -> Result<Self, String> {
        let doc: AnalysisDoc = serde_json::from_slice(json).map_err(|e| e.to_string())?;
        if doc.width == 0 || doc.height == 0 {
            return Err(format!("empty size {}x{}", doc.width, doc.height));
        }
        let quality = if doc.quality.overall.is_finite() {
            doc.quality.overall.clamp(0.0, 1.0)
        } else {
            0.0
        };
        Ok(PhotoFacts {
            key: key.to_string(),
            width: doc.width,
            height: doc.height,
            sha256: doc.sha256,
            time: doc.taken_at.as_deref().and_then(parse_time),
            taken_at: doc.taken_at,
            gps: doc
                .gps
                .filter(|g| g.lat.is_finite() && g.lon.is_finite())
                .map(|g| (g.lat, g.lon)),
            faces: doc.faces,
            quality,
            roi: Roi {
                rect: doc.roi,
                focal_point: doc.focal_point,
            },
            signature: doc.signature,
        })
    }

    fn score(&self) -> f64 {
        let megapixels = f64::from(self.width) * f64::from(self.height) / 1e6;
        let resolution = (megapixels / FULL_SCORE_MEGAPIXELS).min(1.0).sqrt();
        (self.quality + 0.05 * self.faces.len().min(3) as f64) * (0.5 + 0.5 * resolution)
    }
}

/// Seconds of `YYYY-MM-DDTHH:MM:SS[.fff][Z|±HH:MM]`: UTC with an offset, the clock's without.
pub fn parse_time(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let part = b.get(r)?;
        part.iter()
            .all(u8::is_ascii_digit)
            .then(|| part.iter().fold(0i64, |n, d| n * 10 + i64::from(d - b'0')))
    };
    if b.len() < 19 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[13] != b':' {
        return None;
    }
    if b[16] != b':' {
        return None;
    }
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 {
        return None;
    }
    let mut rest = &text[19..];
    if let Some(fraction) = rest.strip_prefix('.') {
        let digits = fraction.bytes().take_while(u8::is_ascii_digit).count();
        rest = &fraction[digits..];
    }
    let offset = match rest {
        "" | "Z" => 0,
        _ => {
            let o = rest.as_bytes();
            if o.len() != 6 || o[3] != b':' || !(o[0] == b'+' || o[0] == b'-') {
                return None;
            }
            let h = i64::from(rest[1..3].parse::<u8>().ok()?);
            let m = i64::from(rest[4..6].parse::<u8>().ok()?);
            let sign = if o[0] == b'-' { -1 } else { 1 };
            sign * (h * 3600 + m * 60)
        }
    };
    // Days from 1970-01-01 of a proleptic Gregorian date (civil-from-days, inverted).
    let (y, m) = if month <= 2 {
        (year - 1, month + 9)
    } else {
        (year, month - 3)
    };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * m + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400 + hour * 3600 + minute * 60 + second - offset)
}

/// A page of the book with its photo slots (sizes in pixels at the page's dpi).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Surface {
    /// The surface's number in the book.
    pub surface_number: u32,
    /// The page.
    pub page: Page,
    /// The slots, in the designer's order.
    pub slots: Vec<Slot>,
}

/// Page size and print resolution.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Page {
    /// Width in pixels.
    pub width: f64,
    /// Height in pixels.
    pub height: f64,
    /// Pixels per inch of the page.
    pub dpi: f64,
}

/// A photo slot on a page: a box `w` x `h` at `(x, y)`, turned by `rot` degrees clockwise
/// about its centre. The photo fills the box and turns with it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Slot {
    /// Left edge on the page.
    pub x: f64,
    /// Top edge on the page.
    pub y: f64,
    /// Width.
    pub w: f64,
    /// Height.
    pub h: f64,
    /// Rotation in degrees, clockwise.
    #[serde(default)]
    pub rot: f64,
}

impl Slot {
    /// The slot's aspect ratio `w:h` as a fraction with terms up to
    /// [`AspectRatio::MAX_TERM`] (exact for whole pixel sizes; otherwise within about 1e-8).
    pub fn ratio(&self) -> Option<AspectRatio> {
        ratio_of(self.w, self.h)
    }
}

/// The best fraction `p:q` for `w / h` with both terms up to [`AspectRatio::MAX_TERM`]
/// (continued fractions), `None` for a size that is not positive and finite or a ratio beyond
/// 10000:1.
fn ratio_of(w: f64, h: f64) -> Option<AspectRatio> {
    if !(w.is_finite() && h.is_finite() && w > 0.0 && h > 0.0) {
        return None;
    }
    let max = u64::from(AspectRatio::MAX_TERM);
    // Beyond 10000:1 before any rounding (10000.99:1 would round to 10000:1).
    let bound = f64::from(AspectRatio::MAX_TERM);
    if w > bound * h || h > bound * w {
        return None;
    }
    if w.fract() == 0.0 && h.fract() == 0.0 && w <= u32::MAX as f64 && h <= u32::MAX as f64 {
        if let Ok(r) = AspectRatio::new(w as u32, h as u32) {
            return Some(r);
        }
    }
    let target = w / h;
    let (mut p0, mut q0, mut p1, mut q1) = (0u64, 1u64, 1u64, 0u64);
    let mut x = target;
    let mut best = None;
    for _ in 0..64 {
        let a = x.floor();
        if !(0.0..=max as f64).contains(&a) {
            break;
        }
        let a = a as u64;
        let (p2, q2) = (a * p1 + p0, a * q1 + q0);
        if p2 > max || q2 > max {
            break;
        }
        if p2 > 0 {
            best = Some((p2, q2));
        }
        (p0, q0, p1, q1) = (p1, q1, p2, q2);
        let f = x - a as f64;
        if f < 1e-12 {
            break;
        }
        x = 1.0 / f;
    }
    let (p, q) = best?;
    AspectRatio::new(p as u32, q as u32).ok()
}

/// Print quality of a placement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PrintQuality {
    /// At least `dpi_good`.
    Good,
    /// At least `dpi_fair`.
    Fair,
    /// Below `dpi_fair`.
    Low,
}

/// What the planner decided about a photo.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PhotoPlan {
    /// The photo's key.
    pub key: String,
    /// SHA-256 of the original the analysis was made from, for a render request to name
    /// (`null` when the analysis predates it).
    pub sha256: Option<String>,
    /// Whether it is in a slot.
    pub selected: bool,
    /// 1 = best score.
    pub rank: u32,
    /// The score ranked by.
    pub score: f64,
    /// Its near-duplicate group (numbered from 1 in chronological order of their first
    /// photo), or `null` when it has no near duplicate.
    pub duplicate_group: Option<u32>,
    /// Its event, numbered from 1 in chronological order.
    pub event: u32,
    /// Its place in chronological order, from 1.
    pub sequence: u32,
    /// Capture time, as in the analysis.
    pub taken_at: Option<String>,
}

/// A crop of a photo placed in a slot.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Placement {
    /// Left edge, in the upright photo's pixels.
    pub x: u32,
    /// Top edge.
    pub y: u32,
    /// Width.
    pub width: u32,
    /// Height.
    pub height: u32,
    /// The slot's rotation (degrees clockwise): the crop turns with the slot.
    pub rot: f64,
}

impl Placement {
    /// The crop as a rectangle.
    pub fn rect(&self) -> Rect {
        Rect {
            x: self.x,
            y: self.y,
            width: self.width,
            height: self.height,
        }
    }
}

/// One slot's filling.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SlotPlan {
    /// The slot's index in its surface's `slots`, from 0.
    pub slot: u32,
    /// The photo's key (`null` when there are fewer photos than slots).
    pub photo: Option<String>,
    /// The crop shown in the slot.
    pub placement: Option<Placement>,
    /// Placement width over the slot's width in inches.
    pub effective_dpi: Option<f64>,
    /// `good`, `fair` or `low` from the effective DPI.
    pub print_quality: Option<PrintQuality>,
    /// Whether every face of the photo is whole in the placement.
    pub faces_kept: Option<bool>,
}

/// One surface's filling.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SurfacePlan {
    /// The surface's number.
    pub surface_number: u32,
    /// Its slots, in the request's order.
    pub slots: Vec<SlotPlan>,
}

/// An event: a run of photos close in time and place.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EventPlan {
    /// Its number, from 1.
    pub event: u32,
    /// First capture time (`null` for the undated photos' event).
    pub start: Option<String>,
    /// Last capture time.
    pub end: Option<String>,
    /// Photos in it.
    pub photos: u32,
    /// Of which selected.
    pub selected: u32,
}

/// The whole plan.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Plan {
    /// Every photo, in the request's order.
    pub photos: Vec<PhotoPlan>,
    /// Every surface, in `surface_number` order.
    pub surfaces: Vec<SurfacePlan>,
    /// The events, in chronological order.
    pub events: Vec<EventPlan>,
}

/// Plans the book (see the module documentation). `surfaces` must have valid slots (see
/// [`Slot::ratio`]); slots whose ratio is invalid stay empty.
pub fn plan(photos: &[PhotoFacts], surfaces: &[Surface], settings: &PlanSettings) -> Plan {
    let n = photos.len();
    let scores: Vec<f64> = photos.iter().map(PhotoFacts::score).collect();
    // Rank: score, then key.
    let mut by_rank: Vec<usize> = (0..n).collect();
    by_rank.sort_by(|&a, &b| {
        scores[b]
            .total_cmp(&scores[a])
            .then_with(|| photos[a].key.cmp(&photos[b].key))
    });
    let mut rank = vec![0u32; n];
    for (r, &i) in by_rank.iter().enumerate() {
        rank[i] = r as u32 + 1;
    }
    // Chronological order: dated first by time, then undated; ties by key.
    let mut chrono: Vec<usize> = (0..n).collect();
    chrono.sort_by(|&a, &b| {
        let (ta, tb) = (photos[a].time, photos[b].time);
        (ta.is_none(), ta, &photos[a].key).cmp(&(tb.is_none(), tb, &photos[b].key))
    });
    let mut sequence = vec![0u32; n];
    for (s, &i) in chrono.iter().enumerate() {
        sequence[i] = s as u32 + 1;
    }
    let events = events_of(photos, &chrono, settings);

    // Duplicate groups, computed in chronological order so their numbers follow it.
    let signatures: Vec<Signature> = chrono.iter().map(|&i| photos[i].signature).collect();
    let groups_chrono = near_duplicate_groups(&signatures);
    let mut group = vec![0usize; n];
    for (pos, &i) in chrono.iter().enumerate() {
        group[i] = groups_chrono[pos];
    }
    let group_count = groups_chrono.iter().max().map_or(0, |g| g + 1);
    let mut group_size = vec![0u32; group_count];
    for &g in &group {
        group_size[g] += 1;
    }
    // Shared groups are numbered from 1 in the order of their first photo; alone is `null`.
    let mut shared_number = vec![None; group_count];
    let mut next = 0;
    for &g in &groups_chrono {
        if group_size[g] > 1 && shared_number[g].is_none() {
            next += 1;
            shared_number[g] = Some(next);
        }
    }

    let slot_count: usize = surfaces.iter().map(|s| s.slots.len()).sum();
    let selected = select(&by_rank, &rank, &group, group_count, &events, slot_count);
    let mut is_selected = vec![false; n];
    for &i in &selected {
        is_selected[i] = true;
    }

    // Lay out in chronological order, surface by surface.
    let mut in_order: Vec<usize> = selected.clone();
    in_order.sort_by_key(|&i| sequence[i]);
    let mut order: Vec<&Surface> = surfaces.iter().collect();
    order.sort_by_key(|s| s.surface_number);
    let mut next_photo = in_order.into_iter();
    let mut surface_plans = Vec::with_capacity(order.len());
    for surface in order {
        let batch: Vec<usize> = next_photo.by_ref().take(surface.slots.len()).collect();
        surface_plans.push(fill_surface(photos, surface, &batch, settings));
    }

    let event_plans: Vec<EventPlan> = events
        .iter()
        .enumerate()
        .map(|(e, members)| {
            let time_of = |i: &usize| photos[*i].taken_at.clone();
            EventPlan {
                event: e as u32 + 1,
                start: members.first().and_then(time_of),
                end: members.last().and_then(time_of),
                photos: members.len() as u32,
                selected: members.iter().filter(|&&i| is_selected[i]).count() as u32,
            }
        })
        .collect();
    let mut event_of = vec![0u32; n];
    for (e, members) in events.iter().enumerate() {
        for &i in members {
            event_of[i] = e as u32 + 1;
        }
    }
    let photo_plans = (0..n)
        .map(|i| PhotoPlan {
            key: photos[i].key.clone(),
            sha256: photos[i].sha256.clone(),
            selected: is_selected[i],
            rank: rank[i],
            score: (scores[i] * 1e4).round() / 1e4,
            duplicate_group: shared_number[group[i]],
            event: event_of[i],
            sequence: sequence[i],
            taken_at: photos[i].taken_at.clone(),
        })
        .collect();
    Plan {
        photos: photo_plans,
        surfaces: surface_plans,
        events: event_plans,
    }
}

/// The events, each a list of photo indices in chronological order.
fn events_of(photos: &[PhotoFacts], chrono: &[usize], settings: &PlanSettings) -> Vec<Vec<usize>> {
    let gap = (settings.event_gap_hours * 3600.0) as i64;
    let mut events: Vec<Vec<usize>> = Vec::new();
    let mut undated = Vec::new();
    let mut previous: Option<usize> = None;
    for &i in chrono {
        let Some(t) = photos[i].time else {
            undated.push(i);
            continue;
        };
        let split = previous.is_none_or(|p| {
            let far_in_time = photos[p].time.is_some_and(|tp| t - tp > gap);
            let far_away = match (photos[p].gps, photos[i].gps) {
                (Some(a), Some(b)) => distance_km(a, b) > settings.event_distance_km,
                _ => false,
            };
            far_in_time || far_away
        });
        if split {
            events.push(Vec::new());
        }
        if let Some(last) = events.last_mut() {
            last.push(i);
        }
        previous = Some(i);
    }
    if !undated.is_empty() {
        events.push(undated);
    }
    events
}

/// Great-circle distance in km (haversine, mean Earth radius).
fn distance_km((lat1, lon1): (f64, f64), (lat2, lon2): (f64, f64)) -> f64 {
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let dp = p2 - p1;
    let dl = (lon2 - lon1).to_radians();
    let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * 6371.0 * a.sqrt().min(1.0).asin()
}

/// Picks up to `slots` photos (see the module documentation); returns their indices.
fn select(
    by_rank: &[usize],
    rank: &[u32],
    group: &[usize],
    group_count: usize,
    events: &[Vec<usize>],
    slots: usize,
) -> Vec<usize> {
    // The best photo of every group.
    let mut representative = vec![None; group_count];
    for &i in by_rank {
        representative[group[i]].get_or_insert(i);
    }
    let is_rep = |i: usize| representative[group[i]] == Some(i);
    // Each event's representatives, best first.
    let candidates: Vec<Vec<usize>> = events
        .iter()
        .map(|members| {
            let mut reps: Vec<usize> = members.iter().copied().filter(|&i| is_rep(i)).collect();
            reps.sort_by_key(|&i| rank[i]);
            reps
        })
        .collect();
    let distinct: usize = candidates.iter().map(Vec::len).sum();
    let mut chosen = Vec::with_capacity(slots.min(by_rank.len()));
    if distinct <= slots {
        chosen.extend(candidates.iter().flatten().copied());
        // Then second members of groups, by rank, while slots last.
        let rest = by_rank.iter().copied().filter(|&i| !is_rep(i));
        chosen.extend(rest.take(slots - distinct));
        return chosen;
    }
    // Quotas: one per event first (events with the best top photo first when slots are fewer
    // than events), then D'Hondt on the events' distinct photos.
    let mut quota = vec![0usize; events.len()];
    let mut tops: Vec<usize> = (0..events.len())
        .filter(|&e| !candidates[e].is_empty())
        .collect();
    tops.sort_by_key(|&e| rank[candidates[e][0]]);
    for &e in tops.iter().take(slots) {
        quota[e] = 1;
    }
    let mut given: usize = quota.iter().sum();
    while given < slots {
        let next = (0..events.len())
            .filter(|&e| quota[e] < candidates[e].len())
            .max_by(|&a, &b| {
                let va = candidates[a].len() as f64 / (quota[a] + 1) as f64;
                let vb = candidates[b].len() as f64 / (quota[b] + 1) as f64;
                // Ties: the earlier event.
                va.total_cmp(&vb).then_with(|| b.cmp(&a))
            });
        let Some(e) = next else { break };
        quota[e] += 1;
        given += 1;
    }
    for (e, reps) in candidates.iter().enumerate() {
        chosen.extend(reps.iter().take(quota[e]));
    }
    chosen
}

/// Puts `batch` (photo indices, chronological) into `surface`'s slots.
fn fill_surface(
    photos: &[PhotoFacts],
    surface: &Surface,
    batch: &[usize],
    settings: &PlanSettings,
) -> SurfacePlan {
    let slots = &surface.slots;
    // Every (photo, slot) pair's placement and how well it suits.
    let options: Vec<Vec<Option<Candidate>>> = batch
        .iter()
        .map(|&i| {
            slots
                .iter()
                .map(|slot| place(&photos[i], slot, &surface.page, settings))
                .collect()
        })
        .collect();
    let value = |p: usize, s: usize| options[p][s].as_ref().map_or(-1e6, |c| c.value);
    let assignment = assign(batch.len(), slots.len(), value);
    let mut plans: Vec<SlotPlan> = (0..slots.len())
        .map(|s| SlotPlan {
            slot: s as u32,
            photo: None,
            placement: None,
            effective_dpi: None,
            print_quality: None,
            faces_kept: None,
        })
        .collect();
    for (p, s) in assignment.into_iter().enumerate() {
        let Some((s, c)) = s.and_then(|s| options[p][s].clone().map(|c| (s, c))) else {
            continue;
        };
        // Judged on the value shown, so that the two agree at the thresholds.
        let dpi = (c.dpi * 10.0).round() / 10.0;
        plans[s] = SlotPlan {
            slot: s as u32,
            photo: Some(photos[batch[p]].key.clone()),
            placement: Some(c.placement),
            effective_dpi: Some(dpi),
            print_quality: Some(settings.quality(dpi)),
            faces_kept: Some(c.faces_kept),
        };
    }
    SurfacePlan {
        surface_number: surface.surface_number,
        slots: plans,
    }
}

#[derive(Debug, Clone)]
struct Candidate {
    placement: Placement,
    dpi: f64,
    faces_kept: bool,
    value: f64,
}

/// The placement of a photo in a slot and how well it suits; `None` for an invalid slot.
fn place(
    photo: &PhotoFacts,
    slot: &Slot,
    page: &Page,
    settings: &PlanSettings,
) -> Option<Candidate> {
    let ratio = slot.ratio()?;
    let crop = best_crop(photo.width, photo.height, ratio, &photo.faces, &photo.roi);
    if crop.width == 0 || crop.height == 0 {
        return None;
    }
    let dpi = effective_dpi(crop.width, slot.w, page.dpi);
    let faces_kept = photo
        .faces
        .iter()
        .filter_map(|f| f.clip(photo.width, photo.height))
        .all(|f| crop.contains(&f));
    let kept_share = crop.area() as f64 / (u64::from(photo.width) * u64::from(photo.height)) as f64;
    let photo_portrait = photo.height > photo.width;
    let slot_portrait = slot.h > slot.w;
    let square = photo.height == photo.width || slot.h == slot.w;
    let oriented = square || photo_portrait == slot_portrait;
    let value = 2.0 * f64::from(u8::from(faces_kept))
        + 0.5 * f64::from(u8::from(oriented))
        + kept_share
        + 0.5 * (dpi / settings.dpi_good).min(1.0);
    Some(Candidate {
        placement: Placement {
            x: crop.x,
            y: crop.y,
            width: crop.width,
            height: crop.height,
            rot: slot.rot,
        },
        dpi,
        faces_kept,
        value,
    })
}

/// Placement width over the slot width in inches.
pub fn effective_dpi(placement_width: u32, slot_width: f64, page_dpi: f64) -> f64 {
    f64::from(placement_width) / (slot_width / page_dpi)
}

/// The assignment of `photos` photos to `slots` slots (each to at most one) that maximises the
/// total `value(photo, slot)`; `result[p]` is the slot of photo `p`. Every photo gets a slot when
/// `photos <= slots`. Hungarian algorithm (shortest augmenting paths with potentials), O(n³).
fn assign(photos: usize, slots: usize, value: impl Fn(usize, usize) -> f64) -> Vec<Option<usize>> {
    if photos == 0 || slots == 0 {
        return vec![None; photos];
    }
    // Square cost matrix (minimised): padded rows or columns cost 0.
    let n = photos.max(slots);
    let cost = |r: usize, c: usize| {
        if r < photos && c < slots {
            -value(r, c)
        } else {
            0.0
        }
    };
    // 1-based arrays, column 0 is the virtual start.
    let mut u = vec![0.0f64; n + 1];
    let mut v = vec![0.0f64; n + 1];
    let mut row_of = vec![0usize; n + 1]; // row_of[c]: the row matched to column c
    let mut way = vec![0usize; n + 1];
    for r in 1..=n {
        row_of[0] = r;
        let mut c0 = 0usize;
        let mut min_v = vec![f64::INFINITY; n + 1];
        let mut used = vec![false; n + 1];
        loop {
            used[c0] = true;
            let r0 = row_of[c0];
            let mut delta = f64::INFINITY;
            let mut c1 = 0usize;
            for c in 1..=n {
                if used[c] {
                    continue;
                }
                let reduced = cost(r0 - 1, c - 1) - u[r0] - v[c];
                if reduced < min_v[c] {
                    min_v[c] = reduced;
                    way[c] = c0;
                }
                if min_v[c] < delta {
                    delta = min_v[c];
                    c1 = c;
                }
            }
            for c in 0..=n {
                if used[c] {
                    u[row_of[c]] += delta;
                    v[c] -= delta;
                } else {
                    min_v[c] -= delta;
                }
            }
            c0 = c1;
            if row_of[c0] == 0 {
                break;
            }
        }
        loop {
            let c1 = way[c0];
            row_of[c0] = row_of[c1];
            c0 = c1;
            if c0 == 0 {
                break;
            }
        }
    }
    let mut result = vec![None; photos];
    for (c, &r) in row_of.iter().enumerate().skip(1) {
        if (1..=photos).contains(&r) && c <= slots {
            result[r - 1] = Some(c - 1);
        }
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_parse_with_and_without_offsets() {
        assert_eq!(parse_time("1970-01-01T00:00:00"), Some(0));
        assert_eq!(parse_time("1970-01-01T01:00:00+01:00"), Some(0));
        assert_eq!(parse_time("2000-03-01T00:00:00Z"), Some(951_868_800));
        assert_eq!(
            parse_time("2024-02-29T12:30:15.250-02:30"),
            Some(1_709_218_815)
        );
        for bad in [
            "",
            "2024-13-01T00:00:00",
            "2024-01-01 00:00:00",
            "2024-01-01T00:00:00+1",
        ] {
            assert_eq!(parse_time(bad), None, "{bad}");
        }
    }

    #[test]
    fn slot_ratios_are_exact_for_whole_sizes_and_close_otherwise() {
        let r = ratio_of(2400.0, 1800.0).expect("valid");
        assert_eq!((r.width(), r.height()), (4, 3));
        let r = ratio_of(1000.5, 333.3).expect("valid");
        assert!((r.value() / (1000.5 / 333.3) - 1.0).abs() < 1e-7);
        assert!(ratio_of(10_000.99, 1.0).is_none() && ratio_of(1.0, 10_000.99).is_none());
        assert!(ratio_of(20_001.0, 2.0).is_none() && ratio_of(1e6, 99.991).is_none());
        assert!(ratio_of(10_000.0, 1.0).is_some() && ratio_of(1e6, 100.0).is_some());
        let r = ratio_of(25_000.0, 1.0);
        assert!(r.is_none(), "beyond 10000:1");
        assert!(ratio_of(0.0, 1.0).is_none() && ratio_of(f64::NAN, 1.0).is_none());
    }

    #[test]
    fn the_assignment_is_optimal_on_a_small_case() {
        // Brute force over all permutations of 4 photos into 5 slots.
        let table = [
            [3.0, 1.0, 0.5, 2.0, 0.0],
            [2.5, 2.4, 0.1, 0.0, 1.0],
            [0.0, 3.0, 2.9, 1.0, 0.2],
            [1.0, 0.0, 3.1, 3.0, 0.5],
        ];
        let got = assign(4, 5, |p, s| table[p][s]);
        let total = |a: &[Option<usize>]| -> f64 {
            a.iter()
                .enumerate()
                .map(|(p, s)| s.map_or(0.0, |s| table[p][s]))
                .sum()
        };
        let mut best = f64::MIN;
        for a in 0..5 {
            for b in 0..5 {
                for c in 0..5 {
                    for d in 0..5 {
                        let s = [a, b, c, d];
                        if (0..4).all(|i| (i + 1..4).all(|j| s[i] != s[j])) {
                            best = best.max(table[0][a] + table[1][b] + table[2][c] + table[3][d]);
                        }
                    }
                }
            }
        }
        assert!((total(&got) - best).abs() < 1e-9, "{got:?}");
        assert!(got.iter().all(Option::is_some));
    }
}

//! Rectangles and points in pixel coordinates, and moving them between image sizes.

use serde::{Deserialize, Serialize};

/// An axis-aligned rectangle in the pixels of some image (origin top-left).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Rect {
    /// Left edge.
    pub x: u32,
    /// Top edge.
    pub y: u32,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
}

impl Rect {
    /// Right edge (exclusive).
    pub fn right(&self) -> u32 {
        self.x.saturating_add(self.width)
    }

    /// Bottom edge (exclusive).
    pub fn bottom(&self) -> u32 {
        self.y.saturating_add(self.height)
    }

    /// Area in pixels.
    pub fn area(&self) -> u64 {
        u64::from(self.width) * u64::from(self.height)
    }

    /// Whether `other` lies wholly inside `self`.
    pub fn contains(&self, other: &Rect) -> bool {
        other.x >= self.x
            && other.y >= self.y
            && other.right() <= self.right()
            && other.bottom() <= self.bottom()
    }

    /// The smallest rectangle holding both.
    pub fn union(&self, other: &Rect) -> Rect {
        let x = self.x.min(other.x);
        let y = self.y.min(other.y);
        Rect {
            x,
            y,
            width: self.right().max(other.right()) - x,
            height: self.bottom().max(other.bottom()) - y,
        }
    }

    /// Area shared with `other`, divided by the area of their union (0 when either is empty).
    pub fn iou(&self, other: &Rect) -> f64 {
        let ix = self
            .right()
            .min(other.right())
            .saturating_sub(self.x.max(other.x));
        let iy = self
            .bottom()
            .min(other.bottom())
            .saturating_sub(self.y.max(other.y));
        let inter = u64::from(ix) * u64::from(iy);
        let union = self.area() + other.area() - inter;
        if union == 0 {
            0.0
        } else {
            inter as f64 / union as f64
        }
    }

    /// This rectangle clipped to a `width` x `height` image; `None` when nothing of it is
    /// inside.
    pub fn clip(&self, width: u32, height: u32) -> Option<Rect> {
        let (x0, y0) = (self.x.min(width), self.y.min(height));
        let (x1, y1) = (self.right().min(width), self.bottom().min(height));
        (x1 > x0 && y1 > y0).then_some(Rect {
            x: x0,
            y: y0,
            width: x1 - x0,
            height: y1 - y0,
        })
    }

    /// This rectangle, measured in an image of `from` (width, height), moved into an image of
    /// `to`: scaled outwards (floor of the start, ceiling of the end) so nothing it held is
    /// lost, and clamped to the target image.
    pub fn rescale(&self, from: (u32, u32), to: (u32, u32)) -> Rect {
        let sx = f64::from(to.0) / f64::from(from.0.max(1));
        let sy = f64::from(to.1) / f64::from(from.1.max(1));
        let x0 = (f64::from(self.x) * sx).floor().clamp(0.0, f64::from(to.0)) as u32;
        let y0 = (f64::from(self.y) * sy).floor().clamp(0.0, f64::from(to.1)) as u32;
        let x1 = (f64::from(self.right()) * sx)
            .ceil()
            .clamp(0.0, f64::from(to.0)) as u32;
        let y1 = (f64::from(self.bottom()) * sy)
            .ceil()
            .clamp(0.0, f64::from(to.1)) as u32;
        Rect {
            x: x0,
            y: y0,
            width: x1.saturating_sub(x0),
            height: y1.saturating_sub(y0),
        }
    }
}

/// A point in the pixels of some image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Point {
    /// Column.
    pub x: u32,
    /// Row.
    pub y: u32,
}

impl Point {
    /// This point, measured in an image of `from` (width, height), moved into an image of `to`
    /// (pixel centres map to pixel centres), clamped to the target image.
    pub fn rescale(&self, from: (u32, u32), to: (u32, u32)) -> Point {
        let map = |v: u32, f: u32, t: u32| -> u32 {
            let scaled = (f64::from(v) + 0.5) * f64::from(t) / f64::from(f.max(1)) - 0.5;
            scaled.round().clamp(0.0, f64::from(t.saturating_sub(1))) as u32
        };
        Point {
            x: map(self.x, from.0, to.0),
            y: map(self.y, from.1, to.1),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(x: u32, y: u32, width: u32, height: u32) -> Rect {
        Rect {
            x,
            y,
            width,
            height,
        }
    }

    #[test]
    fn rescale_grows_outwards_and_clamps() {
        let small = r(10, 10, 5, 5);
        let big = small.rescale((100, 100), (301, 301));
        assert!(big.x <= 30 && big.y <= 30);
        assert!(big.right() >= 45 && big.bottom() >= 45);
        let edge = r(90, 90, 10, 10).rescale((100, 100), (1000, 1000));
        assert_eq!(edge.right(), 1000);
        assert_eq!(edge.bottom(), 1000);
    }

    #[test]
    fn contains_union_and_iou() {
        let a = r(0, 0, 10, 10);
        let b = r(5, 5, 10, 10);
        assert!(a.contains(&r(2, 2, 8, 8)));
        assert!(!a.contains(&b));
        assert_eq!(a.union(&b), r(0, 0, 15, 15));
        assert!((a.iou(&b) - 25.0 / 175.0).abs() < 1e-9);
        assert_eq!(a.iou(&r(20, 20, 1, 1)), 0.0);
    }

    #[test]
    fn point_rescale_keeps_centres() {
        let p = Point { x: 50, y: 0 }.rescale((101, 10), (1010, 100));
        assert_eq!(p, Point { x: 505, y: 5 });
        let last = Point { x: 99, y: 9 }.rescale((100, 10), (10, 1));
        assert_eq!(last, Point { x: 9, y: 0 });
    }
}

//! Image-only PDFs, as a scanner writes them: for the scan tests (tests/scan.rs,
//! tests/scan_daemon.rs, tests/browser.rs).

/// An image-only PDF: each page one JPEG, A4, no text layer.
pub fn image_pdf(pages: &[(u32, u32, Vec<u8>)]) -> Vec<u8> {
    use lopdf::{Document, Object, Stream, dictionary};
    let mut doc = Document::with_version("1.5");
    let pages_id = doc.new_object_id();
    let mut kids: Vec<Object> = Vec::new();
    for (w, h, bytes) in pages {
        let img = Stream::new(
            dictionary! {
                "Type" => "XObject", "Subtype" => "Image",
                "Width" => i64::from(*w), "Height" => i64::from(*h),
                "ColorSpace" => "DeviceRGB", "BitsPerComponent" => 8, "Filter" => "DCTDecode",
            },
            bytes.clone(),
        );
        let img_id = doc.add_object(img);
        let content = doc.add_object(Stream::new(
            dictionary! {},
            b"q 595 0 0 842 0 0 cm /Im0 Do Q".to_vec(),
        ));
        let page = doc.add_object(dictionary! {
            "Type" => "Page", "Parent" => pages_id,
            "MediaBox" => vec![0.into(), 0.into(), 595.into(), 842.into()],
            "Contents" => content,
            "Resources" => dictionary! { "XObject" => dictionary! { "Im0" => img_id } },
        });
        kids.push(page.into());
    }
    let count = kids.len() as i64;
    doc.objects.insert(
        pages_id,
        Object::Dictionary(dictionary! { "Type" => "Pages", "Kids" => kids, "Count" => count }),
    );
    let catalog = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    doc.trailer.set("Root", catalog);
    let mut out = Vec::new();
    doc.save_to(&mut out).expect("pdf");
    out
}

/// The 淮安 fixture PDF's pages as JPEGs at `dpi` (quality 75), packed into an image-only
/// PDF: a scan of a real report.
#[allow(dead_code)] // not every test crate that includes this module scans the fixture
pub fn scanned_fixture(dpi: u32) -> Vec<u8> {
    let dir = tempfile::tempdir().expect("tempdir");
    let pdf = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/005_huaian-2024.pdf"
    );
    let status = std::process::Command::new("pdftoppm")
        .args([
            "-r",
            &dpi.to_string(),
            "-jpeg",
            "-jpegopt",
            "quality=75",
            pdf,
        ])
        .arg(dir.path().join("p"))
        .status()
        .expect("pdftoppm");
    assert!(status.success());
    let mut files: Vec<_> = std::fs::read_dir(dir.path())
        .expect("dir")
        .map(|e| e.expect("entry").path())
        .collect();
    files.sort();
    let pages: Vec<(u32, u32, Vec<u8>)> = files
        .iter()
        .map(|f| {
            let (w, h) = image::image_dimensions(f).expect("dimensions");
            (w, h, std::fs::read(f).expect("jpeg"))
        })
        .collect();
    image_pdf(&pages)
}

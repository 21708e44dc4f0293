//! Fuzzed bytes as the first worksheet of a valid xlsx (calamine's streaming cell reader,
//! merged cells, nianbao's paragraph/table split), and the raw bytes as .xlsx and .ods:
//! truncated and hostile workbooks. (.xls falls back to LibreOffice: not fuzzed here.)
#![no_main]

use std::io::Write;

use libfuzzer_sys::fuzz_target;

const PARTS: [(&str, &str); 3] = [
    (
        "[Content_Types].xml",
        r#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>"#,
    ),
    (
        "xl/workbook.xml",
        r#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>"#,
    ),
    (
        "xl/_rels/workbook.xml.rels",
        r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>"#,
    ),
];

fuzz_target!(|data: &[u8]| {
    let mut buf = std::io::Cursor::new(Vec::new());
    {
        let mut zip = zip::ZipWriter::new(&mut buf);
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored);
        for (name, content) in PARTS {
            if zip.start_file(name, options).is_err() || zip.write_all(content.as_bytes()).is_err()
            {
                return;
            }
        }
        if zip.start_file("xl/worksheets/sheet1.xml", options).is_err()
            || zip.write_all(data).is_err()
            || zip.finish().is_err()
        {
            return;
        }
    }
    let _ = nianbao_check::check::check_bytes(buf.get_ref(), "report.xlsx");
    for name in ["report.xlsx", "report.ods"] {
        if !nianbao_check::extract::uses_helper(data, name) {
            let _ = nianbao_check::check::check_bytes(data, name);
        }
    }
});

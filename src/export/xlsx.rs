//! XLSX export, written as a stream: numbers as numbers, dates as Excel dates, a bold
//! frozen header with an autofilter, sensible column widths.
//!
//! A workbook is a zip of XML parts. Every part but the sheet's rows and the text they
//! use is known before the first row (the row count fixes the filter's range and the
//! number of sheets), so those parts go out first; the rows are then compressed into the
//! zip as they are written, chunk by chunk, and the shared-strings part (each distinct
//! text of the export once) closes the file. Nothing is seeked back to (the zip's sizes
//! follow each part), so the first bytes leave at once and memory holds a chunk, not the
//! file. Texts are shared strings rather than inline: the snapshot already keeps each
//! distinct text once, and a cell then holds a number instead of a copy of the text.

use std::io::Write;
use std::sync::{Arc, Mutex};

use zip::write::{SimpleFileOptions, StreamWriter};
use zip::{CompressionMethod, ZipWriter};

use super::{Kind, columns};
use crate::domain::format_us_date;
use crate::inventory::columns::Column;
use crate::inventory::rows::{NO_DATE, Rows, TextCol, date};

/// The worksheet's name, as the old portal's export named it.
pub const SHEET_NAME: &str = "Inventory Export";

/// Rows a worksheet holds below its header (Excel's limit is 1,048,576 rows in all).
/// An export with more continues on further sheets, each with its own header.
pub const ROWS_PER_SHEET: usize = 1_048_575;

/// Excel keeps at most this many characters in a cell.
const MAX_CELL_CHARS: usize = 32_767;

/// Style indexes in `styles.xml`'s `cellXfs`.
const STYLE_HEADER: u8 = 1;
const STYLE_QTY: u8 = 2;
const STYLE_DATE: u8 = 3;

/// Where the zip writes: bytes wait here until the caller takes them.
#[derive(Clone, Default)]
struct Out(Arc<Mutex<Vec<u8>>>);

impl Out {
    fn take(&self) -> Vec<u8> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

impl Write for Out {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// One export being written. [`XlsxStream::start`] writes every part known up front,
/// [`XlsxStream::write_rows`] adds rows, [`XlsxStream::take`] hands over the bytes ready
/// so far, [`XlsxStream::finish`] closes the file. Every call is given the same `rows`.
pub struct XlsxStream {
    zip: ZipWriter<StreamWriter<Out>>,
    out: Out,
    cols: Vec<&'static Column>,
    /// Each column's text column, where it is one.
    text_cols: Vec<Option<TextCol>>,
    /// The column letters (`A`, `B`, …).
    letters: Vec<String>,
    today_julian: i32,
    total: usize,
    /// Rows a sheet holds ([`ROWS_PER_SHEET`]; fewer in tests).
    per_sheet: usize,
    /// Rows written so far.
    written: usize,
    /// Shared-string index by pool id (`u32::MAX` while unused).
    sst_of: Vec<u32>,
    /// Pool ids in shared-string order.
    sst: Vec<u32>,
    /// Cells that name a shared string (the part's `count`).
    sst_refs: u64,
    buf: Vec<u8>,
}

fn options() -> SimpleFileOptions {
    // A large export is bound by compression time. On an inventory sheet level 2 is a
    // third smaller than level 1 for a third more time; higher levels cost far more time
    // for a few percent (measured in docs/benchmarks.md).
    SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .compression_level(Some(2))
}

fn zip_error(e: zip::result::ZipError) -> std::io::Error {
    match e {
        zip::result::ZipError::Io(e) => e,
        other => std::io::Error::other(other),
    }
}

/// How many worksheets `total` rows take, `per_sheet` a sheet (one at least, for the
/// header).
fn sheet_count(total: usize, per_sheet: usize) -> usize {
    total.div_ceil(per_sheet).max(1)
}

fn sheet_name(n: usize) -> String {
    if n == 1 {
        SHEET_NAME.to_owned()
    } else {
        format!("{SHEET_NAME} ({n})")
    }
}

/// Rows on sheet `n` (1-based) of an export of `total`, `per_sheet` a sheet.
fn rows_on_sheet(total: usize, per_sheet: usize, n: usize) -> usize {
    total.saturating_sub((n - 1) * per_sheet).min(per_sheet)
}

/// `A`, …, `Z`, `AA`, … for a 0-based column.
fn column_letters(mut c: usize) -> String {
    let mut s = Vec::new();
    loop {
        s.push(b'A' + (c % 26) as u8);
        if c < 26 {
            break;
        }
        c = c / 26 - 1;
    }
    s.reverse();
    String::from_utf8(s).unwrap_or_default()
}

fn push_u64(buf: &mut Vec<u8>, n: u64) {
    buf.extend_from_slice(super::digits(n, &mut [0u8; 20]));
}

fn push_i64(buf: &mut Vec<u8>, n: i64) {
    if n < 0 {
        buf.push(b'-');
    }
    push_u64(buf, n.unsigned_abs());
}

/// Text as XML character data, the way Excel stores it: `&`, `<`, `>` escaped; characters
/// XML 1.0 cannot hold written as `_xHHHH_`, and a literal `_xHHHH_` kept literal by
/// escaping its underscore; cut to what a cell holds.
fn push_text(buf: &mut Vec<u8>, text: &str) {
    let text = match text.char_indices().nth(MAX_CELL_CHARS) {
        Some((cut, _)) => &text[..cut],
        None => text,
    };
    let bytes = text.as_bytes();
    let mut start = 0;
    for (i, ch) in text.char_indices() {
        let escaped: Option<std::borrow::Cow<'static, str>> = match ch {
            '&' => Some("&amp;".into()),
            '<' => Some("&lt;".into()),
            '>' => Some("&gt;".into()),
            '\t' | '\n' | '\r' => None,
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {
                Some(format!("_x{:04X}_", c as u32).into())
            }
            '_' if looks_escaped(&bytes[i..]) => Some("_x005F_".into()),
            _ => None,
        };
        if let Some(e) = escaped {
            buf.extend_from_slice(&bytes[start..i]);
            buf.extend_from_slice(e.as_bytes());
            start = i + ch.len_utf8();
        }
    }
    buf.extend_from_slice(&bytes[start..]);
}

/// `_xHHHH_` at the start of `b`.
fn looks_escaped(b: &[u8]) -> bool {
    b.len() >= 7 && b[1] == b'x' && b[2..6].iter().all(u8::is_ascii_hexdigit) && b[6] == b'_'
}

/// A `<t>` element, keeping leading and trailing white space as Excel does.
fn push_t(buf: &mut Vec<u8>, text: &str) {
    let keep = text.starts_with(char::is_whitespace) || text.ends_with(char::is_whitespace);
    buf.extend_from_slice(if keep {
        b"<t xml:space=\"preserve\">"
    } else {
        b"<t>"
    });
    push_text(buf, text);
    buf.extend_from_slice(b"</t>");
}

/// The Julian day of Excel's day 0 (1899-12-30, counting its fictitious 1900-02-29).
const EXCEL_EPOCH_JULIAN: i32 = 2_415_019;
/// The Julian day of 1900-03-01, where Excel's serials and the calendar agree again.
const MARCH_1900_JULIAN: i32 = 2_415_080;

/// Excel's serial for a day, or `None` before 1900-01-01 (Excel has no such dates).
fn excel_serial(julian: i32) -> Option<i64> {
    let days = i64::from(julian) - i64::from(EXCEL_EPOCH_JULIAN);
    let serial = if julian >= MARCH_1900_JULIAN {
        days
    } else {
        days - 1
    };
    (serial >= 1).then_some(serial)
}

impl XlsxStream {
    /// Starts an export of `total` rows: writes every part but the rows and their texts.
    pub fn start(
        rows: &Rows,
        total: usize,
        multi_customer: bool,
        today: time::Date,
    ) -> std::io::Result<XlsxStream> {
        XlsxStream::start_with(rows, total, multi_customer, today, ROWS_PER_SHEET)
    }

    fn start_with(
        rows: &Rows,
        total: usize,
        multi_customer: bool,
        today: time::Date,
        per_sheet: usize,
    ) -> std::io::Result<XlsxStream> {
        let cols = columns(multi_customer);
        let out = Out::default();
        let mut zip = ZipWriter::new_stream(out.clone());
        let sheets = sheet_count(total, per_sheet);
        let last_col = column_letters(cols.len() - 1);
        let small = |zip: &mut ZipWriter<StreamWriter<Out>>, name: &str, body: &str| {
            zip.start_file(name, options()).map_err(zip_error)?;
            zip.write_all(XML_DECL.as_bytes())?;
            zip.write_all(body.as_bytes())
        };
        small(&mut zip, "[Content_Types].xml", &content_types(sheets))?;
        small(&mut zip, "_rels/.rels", ROOT_RELS)?;
        small(
            &mut zip,
            "xl/workbook.xml",
            &workbook(total, per_sheet, &last_col),
        )?;
        small(
            &mut zip,
            "xl/_rels/workbook.xml.rels",
            &workbook_rels(sheets),
        )?;
        small(&mut zip, "xl/styles.xml", STYLES)?;
        let mut stream = XlsxStream {
            zip,
            out,
            text_cols: cols.iter().map(|c| c.text_col()).collect(),
            letters: (0..cols.len()).map(column_letters).collect(),
            cols,
            today_julian: today.to_julian_day(),
            total,
            per_sheet,
            written: 0,
            sst_of: vec![u32::MAX; rows.distinct_texts()],
            sst: Vec::new(),
            sst_refs: 0,
            buf: Vec::with_capacity(256 * 1024),
        };
        stream.begin_sheet(1)?;
        Ok(stream)
    }

    /// Opens sheet `n`: everything before its first data row.
    fn begin_sheet(&mut self, n: usize) -> std::io::Result<()> {
        let on_sheet = rows_on_sheet(self.total, self.per_sheet, n);
        let last = format!(
            "{}{}",
            self.letters[self.letters.len() - 1],
            on_sheet.max(1) + 1
        );
        self.zip
            .start_file(format!("xl/worksheets/sheet{n}.xml"), options())
            .map_err(zip_error)?;
        let b = &mut self.buf;
        b.clear();
        b.extend_from_slice(XML_DECL.as_bytes());
        b.extend_from_slice(
            format!(
                "<worksheet xmlns=\"{MAIN_NS}\" xmlns:r=\"{REL_NS}\"><dimension ref=\"A1:{last}\"/>\
                 <sheetViews><sheetView {selected}workbookViewId=\"0\"><pane ySplit=\"1\" \
                 topLeftCell=\"A2\" activePane=\"bottomLeft\" state=\"frozen\"/>\
                 <selection pane=\"bottomLeft\"/></sheetView></sheetViews>\
                 <sheetFormatPr defaultRowHeight=\"15\"/><cols>",
                selected = if n == 1 { "tabSelected=\"1\" " } else { "" },
            )
            .as_bytes(),
        );
        for (i, c) in self.cols.iter().enumerate() {
            // Excel adds about 0.71 characters of padding to a width it is given.
            b.extend_from_slice(
                format!(
                    "<col min=\"{n}\" max=\"{n}\" width=\"{w}\" customWidth=\"1\"/>",
                    n = i + 1,
                    w = c.xlsx_width + 0.710_937_5
                )
                .as_bytes(),
            );
        }
        b.extend_from_slice(b"</cols><sheetData><row r=\"1\">");
        for (i, c) in self.cols.iter().enumerate() {
            b.extend_from_slice(b"<c r=\"");
            b.extend_from_slice(self.letters[i].as_bytes());
            b.extend_from_slice(b"1\" s=\"");
            push_u64(b, u64::from(STYLE_HEADER));
            b.extend_from_slice(b"\" t=\"inlineStr\"><is>");
            push_t(b, c.header);
            b.extend_from_slice(b"</is></c>");
        }
        b.extend_from_slice(b"</row>");
        self.zip.write_all(&self.buf)
    }

    /// Closes the sheet the last row went on.
    fn end_sheet(&mut self, n: usize) -> std::io::Result<()> {
        let last = format!(
            "{}{}",
            self.letters[self.letters.len() - 1],
            rows_on_sheet(self.total, self.per_sheet, n).max(1) + 1
        );
        self.zip.write_all(
            format!(
                "</sheetData><autoFilter ref=\"A1:{last}\"/><pageMargins left=\"0.7\" \
                 right=\"0.7\" top=\"0.75\" bottom=\"0.75\" header=\"0.3\" footer=\"0.3\"/>\
                 </worksheet>"
            )
            .as_bytes(),
        )
    }

    /// Writes the next rows (`order` indexes `rows`), moving to a new sheet when one fills.
    pub fn write_rows(&mut self, rows: &Rows, order: &[u32]) -> std::io::Result<()> {
        let mut order = order;
        while !order.is_empty() {
            if self.written >= self.total {
                return Err(std::io::Error::other(
                    "more rows than the export was started with",
                ));
            }
            if self.written > 0 && self.written.is_multiple_of(self.per_sheet) {
                let n = self.written / self.per_sheet;
                self.end_sheet(n)?;
                self.begin_sheet(n + 1)?;
            }
            let room = self.per_sheet - self.written % self.per_sheet;
            let room = room.min(self.total - self.written);
            let (now, rest) = order.split_at(order.len().min(room));
            self.buf.clear();
            for &idx in now {
                self.row(rows, idx as usize);
                self.written += 1;
                if self.buf.len() >= 192 * 1024 {
                    self.zip.write_all(&self.buf)?;
                    self.buf.clear();
                }
            }
            self.zip.write_all(&self.buf)?;
            order = rest;
        }
        Ok(())
    }

    /// One row's XML into the buffer.
    fn row(&mut self, rows: &Rows, idx: usize) {
        let r = (self.written % self.per_sheet + 2) as u64;
        let b = &mut self.buf;
        b.extend_from_slice(b"<row r=\"");
        push_u64(b, r);
        b.extend_from_slice(b"\">");
        for (i, c) in self.cols.iter().enumerate() {
            let cell = |b: &mut Vec<u8>, style: Option<u8>, t: Option<&[u8]>| {
                b.extend_from_slice(b"<c r=\"");
                b.extend_from_slice(self.letters[i].as_bytes());
                push_u64(b, r);
                b.push(b'"');
                if let Some(s) = style {
                    b.extend_from_slice(b" s=\"");
                    push_u64(b, u64::from(s));
                    b.push(b'"');
                }
                if let Some(t) = t {
                    b.extend_from_slice(b" t=\"");
                    b.extend_from_slice(t);
                    b.push(b'"');
                }
                b.push(b'>');
            };
            if let Some(tc) = self.text_cols[i] {
                let id = rows.text_ids(tc)[idx];
                if rows.text_of(id).is_empty() {
                    continue;
                }
                let slot = &mut self.sst_of[id as usize];
                if *slot == u32::MAX {
                    *slot = self.sst.len() as u32;
                    self.sst.push(id);
                }
                let s = *slot;
                self.sst_refs += 1;
                cell(b, None, Some(b"s"));
                b.extend_from_slice(b"<v>");
                push_u64(b, u64::from(s));
                b.extend_from_slice(b"</v></c>");
                continue;
            }
            match c.kind {
                Kind::Quantity => {
                    let q = rows.quantities()[idx];
                    if q.is_finite() {
                        cell(b, Some(STYLE_QTY), None);
                        b.extend_from_slice(b"<v>");
                        // Shortest text that reads back as the same number.
                        let _ = write!(b, "{q}");
                        b.extend_from_slice(b"</v></c>");
                    }
                }
                Kind::Date | Kind::Days => {
                    let Some(day) = c
                        .date_col()
                        .map(|col| rows.days(col)[idx])
                        .filter(|&d| d != NO_DATE)
                    else {
                        continue;
                    };
                    if c.kind == Kind::Days {
                        cell(b, None, None);
                        b.extend_from_slice(b"<v>");
                        push_i64(b, i64::from(day) - i64::from(self.today_julian));
                        b.extend_from_slice(b"</v></c>");
                    } else if let Some(serial) = excel_serial(day) {
                        cell(b, Some(STYLE_DATE), None);
                        b.extend_from_slice(b"<v>");
                        push_i64(b, serial);
                        b.extend_from_slice(b"</v></c>");
                    } else if let Some(d) = date(day) {
                        // Before 1900 Excel has no date: the text, as the CSV writes it.
                        cell(b, None, Some(b"inlineStr"));
                        b.extend_from_slice(b"<is><t>");
                        b.extend_from_slice(format_us_date(d).as_bytes());
                        b.extend_from_slice(b"</t></is></c>");
                    }
                }
                Kind::Text => {}
            }
        }
        b.extend_from_slice(b"</row>");
    }

    /// The bytes written so far and not yet taken.
    pub fn take(&mut self) -> Vec<u8> {
        self.out.take()
    }

    /// Closes the last sheet, writes the shared strings and the zip's directory; returns
    /// the last bytes.
    pub fn finish(mut self, rows: &Rows) -> std::io::Result<Vec<u8>> {
        if self.written != self.total {
            return Err(std::io::Error::other(format!(
                "{} rows written of the {} the export was started with",
                self.written, self.total
            )));
        }
        self.end_sheet(sheet_count(self.total, self.per_sheet))?;
        // The texts' part can only exceed 4 GiB (the zip's plain size limit) with texts
        // far longer than an inventory holds; it is marked large only then.
        let bound: u64 = self
            .sst
            .iter()
            .map(|&id| rows.text_of(id).len() as u64 * 7 + 48)
            .sum();
        self.zip
            .start_file(
                "xl/sharedStrings.xml",
                options().large_file(bound > u64::from(u32::MAX) / 2),
            )
            .map_err(zip_error)?;
        let b = &mut self.buf;
        b.clear();
        b.extend_from_slice(XML_DECL.as_bytes());
        b.extend_from_slice(format!("<sst xmlns=\"{MAIN_NS}\" count=\"").as_bytes());
        push_u64(b, self.sst_refs);
        b.extend_from_slice(b"\" uniqueCount=\"");
        push_u64(b, self.sst.len() as u64);
        b.extend_from_slice(b"\">");
        for &id in &self.sst {
            b.extend_from_slice(b"<si>");
            push_t(b, rows.text_of(id));
            b.extend_from_slice(b"</si>");
            if b.len() >= 192 * 1024 {
                self.zip.write_all(b)?;
                b.clear();
            }
        }
        b.extend_from_slice(b"</sst>");
        self.zip.write_all(b)?;
        self.zip.finish().map_err(zip_error)?;
        Ok(self.out.take())
    }
}

/// A whole workbook in memory (a report's attachment).
pub fn write(
    rows: &Rows,
    order: &[u32],
    multi_customer: bool,
    today: time::Date,
) -> std::io::Result<Vec<u8>> {
    let mut x = XlsxStream::start(rows, order.len(), multi_customer, today)?;
    x.write_rows(rows, order)?;
    let mut all = x.take();
    all.extend(x.finish(rows)?);
    Ok(all)
}

const XML_DECL: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n";
const MAIN_NS: &str = "http://schemas.openxmlformats.org/spreadsheetml/2006/main";
const REL_NS: &str = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";

fn content_types(sheets: usize) -> String {
    let mut s = String::from(
        "<Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\">\
         <Default Extension=\"rels\" ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/>\
         <Default Extension=\"xml\" ContentType=\"application/xml\"/>\
         <Override PartName=\"/xl/workbook.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml\"/>\
         <Override PartName=\"/xl/styles.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml\"/>\
         <Override PartName=\"/xl/sharedStrings.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml\"/>",
    );
    for n in 1..=sheets {
        s.push_str(&format!(
            "<Override PartName=\"/xl/worksheets/sheet{n}.xml\" \
             ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml\"/>"
        ));
    }
    s.push_str("</Types>");
    s
}

const ROOT_RELS: &str = "<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">\
    <Relationship Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument\" Target=\"xl/workbook.xml\"/>\
    </Relationships>";

fn workbook(total: usize, per_sheet: usize, last_col: &str) -> String {
    let sheets = sheet_count(total, per_sheet);
    let mut list = String::new();
    let mut names = String::new();
    for n in 1..=sheets {
        let name = sheet_name(n);
        list.push_str(&format!(
            "<sheet name=\"{name}\" sheetId=\"{n}\" r:id=\"rId{n}\"/>"
        ));
        // The autofilter's hidden name: Excel keeps one per filtered sheet.
        names.push_str(&format!(
            "<definedName name=\"_xlnm._FilterDatabase\" localSheetId=\"{i}\" hidden=\"1\">\
             '{name}'!$A$1:${last_col}${end}</definedName>",
            i = n - 1,
            end = rows_on_sheet(total, per_sheet, n).max(1) + 1
        ));
    }
    format!(
        "<workbook xmlns=\"{MAIN_NS}\" xmlns:r=\"{REL_NS}\"><bookViews><workbookView/></bookViews>\
         <sheets>{list}</sheets><definedNames>{names}</definedNames><calcPr calcId=\"124519\"/>\
         </workbook>"
    )
}

fn workbook_rels(sheets: usize) -> String {
    let mut s = String::from(
        "<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">",
    );
    for n in 1..=sheets {
        s.push_str(&format!(
            "<Relationship Id=\"rId{n}\" Type=\"{REL_NS}/worksheet\" Target=\"worksheets/sheet{n}.xml\"/>"
        ));
    }
    s.push_str(&format!(
        "<Relationship Id=\"rId{a}\" Type=\"{REL_NS}/styles\" Target=\"styles.xml\"/>\
         <Relationship Id=\"rId{b}\" Type=\"{REL_NS}/sharedStrings\" Target=\"sharedStrings.xml\"/>\
         </Relationships>",
        a = sheets + 1,
        b = sheets + 2
    ));
    s
}

/// Four cell styles: the default; the header (bold on light blue, a thin line below);
/// quantities (two decimals, as the old portal's export: customers' macros read them that
/// way, right-aligned); dates (`mm/dd/yyyy`).
const STYLES: &str = "<styleSheet xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\">\
    <numFmts count=\"2\"><numFmt numFmtId=\"164\" formatCode=\"#,##0.00\"/><numFmt numFmtId=\"165\" formatCode=\"mm/dd/yyyy\"/></numFmts>\
    <fonts count=\"2\"><font><sz val=\"11\"/><color rgb=\"FF000000\"/><name val=\"Calibri\"/><family val=\"2\"/></font>\
    <font><b/><sz val=\"11\"/><color rgb=\"FF000000\"/><name val=\"Calibri\"/><family val=\"2\"/></font></fonts>\
    <fills count=\"3\"><fill><patternFill patternType=\"none\"/></fill><fill><patternFill patternType=\"gray125\"/></fill>\
    <fill><patternFill patternType=\"solid\"><fgColor rgb=\"FFDCE6F1\"/><bgColor indexed=\"64\"/></patternFill></fill></fills>\
    <borders count=\"2\"><border><left/><right/><top/><bottom/><diagonal/></border>\
    <border><left/><right/><top/><bottom style=\"thin\"><color auto=\"1\"/></bottom><diagonal/></border></borders>\
    <cellStyleXfs count=\"1\"><xf numFmtId=\"0\" fontId=\"0\" fillId=\"0\" borderId=\"0\"/></cellStyleXfs>\
    <cellXfs count=\"4\"><xf numFmtId=\"0\" fontId=\"0\" fillId=\"0\" borderId=\"0\" xfId=\"0\"/>\
    <xf numFmtId=\"0\" fontId=\"1\" fillId=\"2\" borderId=\"1\" xfId=\"0\" applyFont=\"1\" applyFill=\"1\" applyBorder=\"1\"/>\
    <xf numFmtId=\"164\" fontId=\"0\" fillId=\"0\" borderId=\"0\" xfId=\"0\" applyNumberFormat=\"1\" applyAlignment=\"1\"><alignment horizontal=\"right\"/></xf>\
    <xf numFmtId=\"165\" fontId=\"0\" fillId=\"0\" borderId=\"0\" xfId=\"0\" applyNumberFormat=\"1\"/></cellXfs>\
    <cellStyles count=\"1\"><cellStyle name=\"Normal\" xfId=\"0\" builtinId=\"0\"/></cellStyles>\
    <dxfs count=\"0\"/><tableStyles count=\"0\" defaultTableStyle=\"TableStyleMedium9\" defaultPivotStyle=\"PivotStyleLight16\"/>\
    </styleSheet>";

#[cfg(test)]
mod tests {
    use std::io::{Cursor, Read};

    use calamine::{Data, Reader, Xlsx};
    use time::macros::date;

    use super::*;
    use crate::erp::InventoryRow;

    fn row(part: &str, description: &str, exp: Option<time::Date>) -> InventoryRow {
        InventoryRow {
            customer: "Acme & Co".into(),
            part: part.into(),
            customer_part: String::new(),
            description: description.into(),
            on_hand_qty: 12.5,
            unit: "EA".into(),
            bin: "A-01".into(),
            reference: "R".into(),
            user_lot: "L1".into(),
            exp_date: exp,
            last_transaction_date: Some(date!(1900 - 02 - 28)),
            last_rec_date: Some(date!(1899 - 06 - 01)),
            po: String::new(),
            status: "Available".into(),
        }
    }

    fn sheets(bytes: Vec<u8>) -> Vec<(String, Vec<Vec<Data>>)> {
        let mut book: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(bytes)).unwrap();
        book.worksheets()
            .into_iter()
            .map(|(name, range)| (name, range.rows().map(|r| r.to_vec()).collect()))
            .collect()
    }

    fn part(bytes: &[u8], name: &str) -> String {
        let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
        let mut s = String::new();
        zip.by_name(name).unwrap().read_to_string(&mut s).unwrap();
        s
    }

    #[test]
    fn values_read_back_as_numbers_dates_and_texts() {
        let rows = Rows::from_rows(&[
            row("P1", "Cashews <raw> & salted", Some(date!(2027 - 01 - 02))),
            row("P2", " padded\u{1}_x0041_ ", None),
        ]);
        let bytes = write(&rows, &[1, 0], false, date!(2026 - 12 - 04)).unwrap();
        let got = sheets(bytes.clone());
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].0, SHEET_NAME);
        let cells = &got[0].1;
        assert_eq!(cells[0][0], Data::String("Part".into()));
        assert_eq!(cells[0][14], Data::String("Days to Expiry".into()));
        // The order given, not the snapshot's.
        assert_eq!(cells[1][0], Data::String("P2".into()));
        assert_eq!(
            cells[1][1],
            Data::String(" padded\u{1}_x0041_ ".into()),
            "control characters, a literal escape and edge spaces survive"
        );
        assert_eq!(cells[2][1], Data::String("Cashews <raw> & salted".into()));
        assert_eq!(cells[2][2], Data::Float(12.5));
        match &cells[2][6] {
            Data::DateTime(d) => assert_eq!(d.as_f64(), 46389.0, "2027-01-02"),
            other => panic!("Exp Date is a date: {other:?}"),
        }
        // Before 1900-03-01 Excel counts a day that never was; before 1900 it has no date.
        match &cells[2][11] {
            Data::DateTime(d) => assert_eq!(d.as_f64(), 59.0, "1900-02-28"),
            other => panic!("Last Tran Date is a date: {other:?}"),
        }
        assert_eq!(cells[2][10], Data::String("06/01/1899".into()));
        assert_eq!(cells[2][12], Data::String("Acme & Co".into()));
        assert_eq!(cells[2][14], Data::Float(29.0), "days to expiry");
        assert_eq!(cells[1][6], Data::Empty, "no date, no cell");
        assert_eq!(cells[1][8], Data::Empty, "an empty text, no cell");
        // Each text once, only those the export holds.
        let sst = part(&bytes, "xl/sharedStrings.xml");
        assert_eq!(sst.matches("<si><t>Acme &amp; Co</t></si>").count(), 1);
        assert!(sst.contains("_x0001__x005F_x0041_"), "{sst}");
        assert!(sst.contains("xml:space=\"preserve\""));
    }

    #[test]
    fn texts_of_rows_left_out_are_not_in_the_file() {
        let rows = Rows::from_rows(&[
            row("MINE", "mine", None),
            InventoryRow {
                customer: "Someone Else".into(),
                ..row("THEIRS", "secret description", None)
            },
        ]);
        let bytes = write(&rows, &[0], true, date!(2026 - 12 - 04)).unwrap();
        let all: String = ["xl/sharedStrings.xml", "xl/worksheets/sheet1.xml"]
            .iter()
            .map(|p| part(&bytes, p))
            .collect();
        assert!(all.contains("MINE"));
        for other in ["THEIRS", "secret", "Someone"] {
            assert!(!all.contains(other), "{other} leaked");
        }
    }

    #[test]
    fn the_first_bytes_are_ready_before_any_row_is_written() {
        let rows = Rows::from_rows(&[row("P1", "d", None)]);
        let mut x = XlsxStream::start(&rows, 1, false, date!(2026 - 12 - 04)).unwrap();
        let first = x.take();
        assert!(first.starts_with(b"PK"), "a zip's first entry");
        assert!(
            first.len() > 1_000,
            "the small parts are out: {}",
            first.len()
        );
        x.write_rows(&rows, &[0]).unwrap();
        let mut all = first;
        all.extend(x.take());
        all.extend(x.finish(&rows).unwrap());
        assert_eq!(sheets(all)[0].1.len(), 2);
    }

    #[test]
    fn more_rows_than_a_sheet_holds_go_on_to_further_sheets_each_with_a_header() {
        let input: Vec<InventoryRow> = (0..7).map(|i| row(&format!("P{i}"), "d", None)).collect();
        let rows = Rows::from_rows(&input);
        let order: Vec<u32> = (0..7).collect();
        let mut x = XlsxStream::start_with(&rows, 7, false, date!(2026 - 12 - 04), 3).unwrap();
        // Chunks that do not line up with the sheets.
        x.write_rows(&rows, &order[..2]).unwrap();
        x.write_rows(&rows, &order[2..7]).unwrap();
        let mut bytes = x.take();
        bytes.extend(x.finish(&rows).unwrap());
        let got = sheets(bytes.clone());
        let names: Vec<&str> = got.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [SHEET_NAME, "Inventory Export (2)", "Inventory Export (3)"]
        );
        let parts =
            |s: &Vec<Vec<Data>>| -> Vec<String> { s.iter().map(|r| r[0].to_string()).collect() };
        assert_eq!(parts(&got[0].1), ["Part", "P0", "P1", "P2"]);
        assert_eq!(parts(&got[1].1), ["Part", "P3", "P4", "P5"]);
        assert_eq!(parts(&got[2].1), ["Part", "P6"]);
        assert!(part(&bytes, "xl/worksheets/sheet3.xml").contains(r#"<autoFilter ref="A1:O2"/>"#));
        assert!(part(&bytes, "xl/workbook.xml").contains("'Inventory Export (2)'!$A$1:$O$4"));
    }

    #[test]
    fn a_row_count_that_does_not_match_is_an_error_not_a_broken_file() {
        let rows = Rows::from_rows(&[row("P1", "d", None)]);
        let x = XlsxStream::start(&rows, 2, false, date!(2026 - 12 - 04)).unwrap();
        assert!(x.finish(&rows).is_err());
        let mut x = XlsxStream::start(&rows, 1, false, date!(2026 - 12 - 04)).unwrap();
        assert!(x.write_rows(&rows, &[0, 0]).is_err());
    }

    #[test]
    fn an_empty_export_is_a_header() {
        let rows = Rows::from_rows(&[]);
        let bytes = write(&rows, &[], false, date!(2026 - 12 - 04)).unwrap();
        let got = sheets(bytes);
        assert_eq!(got[0].1.len(), 1);
    }

    #[test]
    fn long_texts_are_cut_to_what_a_cell_holds() {
        let long = "é".repeat(MAX_CELL_CHARS + 10);
        let mut buf = Vec::new();
        push_text(&mut buf, &long);
        assert_eq!(
            String::from_utf8(buf).unwrap().chars().count(),
            MAX_CELL_CHARS
        );
    }

    #[test]
    fn column_letters_go_past_z() {
        assert_eq!(column_letters(0), "A");
        assert_eq!(column_letters(14), "O");
        assert_eq!(column_letters(25), "Z");
        assert_eq!(column_letters(26), "AA");
        assert_eq!(column_letters(701), "ZZ");
        assert_eq!(column_letters(702), "AAA");
    }
}

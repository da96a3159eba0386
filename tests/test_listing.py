"""Reading listing responses and choosing images, on the real captures."""

import json
from pathlib import Path

import pytest

from gapspider.listing import ListingError, parse_listing_response, safe_filename, select_image_paths

DATA = Path(__file__).parent / "replica" / "data"


def real(name):
    return (DATA / name).read_text(encoding="utf-8")


def test_legacy_capture_whole_category():
    page = parse_listing_response(real("20240210143119-men-tshirts__20240210143119-5965a1f8.json"))
    assert (len(page.colours), page.current_page, page.page_count, page.total_colours) == (188, 0, 1, 188)
    assert len({c.cc_id for c in page.colours}) == 188


def test_current_capture_facts_are_strings_as_gap_sends_them():
    page = parse_listing_response(real("20260925T222234770749Z-men-tshirts__products-page-1.json"))
    assert (len(page.colours), page.current_page, page.page_count, page.total_colours) == (105, 1, 2, 260)
    first = page.colours[0]
    assert (first.style_id, first.cc_id, first.style_name, first.cc_name) == ("796255", "796255962", "Adult Relaxed T-Shirt", "Blue")
    assert first.facts["regular_price"] == "29.95" and first.facts["effective_price"] == "24.99"
    assert first.facts["percentage_off"] == "17" and first.facts["price_type"] == "M"
    assert first.facts["excluded_from_promotion"] is False
    assert first.facts["marketing_flags"][0]["content"] == "Extra 50% off at checkout"


@pytest.mark.parametrize("body, message", [
    ("{not json", "malformed JSON: not JSON"),
    ("", "malformed JSON: an empty body"),
    ("<html><head><title>Access Denied</title></head><body>Reference #18.1</body></html>", "Access Denied"),
    ("[1, 2]", "a list, not an object"),
    ('{"error": "bad"}', "no 'products' list"),
])
def test_unusable_responses_say_why(body, message):
    with pytest.raises(ListingError, match=message):
        parse_listing_response(body)


def test_one_rendition_per_view_no_videos_no_swatches_no_repeats():
    images = [
        {"type": "Z", "path": "/webcontent/z.jpg"}, {"type": "VLI", "path": "/webcontent/vli.jpg"},
        {"type": "S", "path": "/webcontent/swatch.jpg"}, {"type": "AV1", "path": "/webcontent/av1.jpg"},
        {"type": "AV1_Z", "path": "/webcontent/av1z.jpg"}, {"type": "AV2_VD", "path": "/webcontent/v.mp4"},
        {"type": "AV3_QL", "path": "/webcontent/av3ql.jpg"}, {"type": "VLI", "path": "/webcontent/vli.jpg"},
        {"type": "AV10_VLI", "path": "/webcontent/av10.jpg"},
    ]
    chosen = select_image_paths(images, ["VLI", "Z"])
    assert chosen == [
        {"view": "main", "rendition": "VLI", "path": "/webcontent/vli.jpg"},
        {"view": "AV1", "rendition": "Z", "path": "/webcontent/av1z.jpg"},
        {"view": "AV10", "rendition": "VLI", "path": "/webcontent/av10.jpg"},
    ]
    assert [c["path"] for c in select_image_paths(images, ["P01"])] == ["/webcontent/av1.jpg"]
    assert len(select_image_paths(images, ["VLI", "Z", "QL"], limit=2)) == 2


@pytest.mark.parametrize("name, expected", [
    ("cn63126376.jpg", "cn63126376.jpg"),
    ("../../etc/passwd", "passwd.jpg"),
    ("..\\..\\boot.ini", "boot_ini.jpg"),
    ("a b;rm -rf.PNG", "a_b_rm_-rf.png"),
    ("", "image.jpg"),
    ("....", "image.jpg"),
    ("x" * 300 + ".jpg", "x" * 96 + ".jpg"),
    ("photo.php", "photo_php.jpg"),
])
def test_safe_filename(name, expected):
    assert safe_filename(name) == expected
    assert "/" not in safe_filename(name) and not safe_filename(name).startswith(".")


def test_listing_data_keeps_what_has_no_column_of_its_own():
    """ProductData.listing_data was always {}: it now holds the colour and style entries as Gap sent them."""
    page = parse_listing_response(real("20260925T222234770749Z-men-tshirts__products-page-1.json"))
    data = page.colours[0].facts["listing_data"]
    assert data["colour"]["ccId"] == "796255962" and data["colour"]["vendorName"] == "SHINWON CORPORATION"
    assert data["colour"]["backOrderInventoryStatus"] == "Out of Stock" and "images" not in data["colour"]
    assert data["style"]["styleId"] == "796255" and data["style"]["freeShipping"] == "false"
    assert "styleColors" not in data["style"]
    json.dumps(data)  # stored in a JSON column

import pytest

from analyzer.forms import AnalyzeForm


def errors_for(text: str) -> list[str]:
    form = AnalyzeForm(data={"text": text})
    assert not form.is_valid()
    return form.errors["text"]


def test_a_sentence_is_valid_and_kept_as_written():
    form = AnalyzeForm(data={"text": "You are  kind.\nThanks!"})
    assert form.is_valid()
    assert form.cleaned_data["text"] == "You are  kind.\nThanks!"


@pytest.mark.parametrize("text", ["", "   ", "\n\t  \n"])
def test_blank_text_is_rejected_with_a_clear_message(text):
    assert errors_for(text) == ["Enter a sentence or comment to analyze."]


def test_text_over_the_limit_is_rejected_with_its_length_and_the_limit(settings):
    settings.TOXMON_MAX_CHARS = 20
    [message] = errors_for("x" * 21)
    assert "21 characters" in message and "limit is 20" in message


def test_text_at_the_limit_is_accepted(settings):
    settings.TOXMON_MAX_CHARS = 20
    assert AnalyzeForm(data={"text": "x" * 20}).is_valid()


def test_nul_bytes_are_rejected():
    assert errors_for("hello\x00world")


@pytest.mark.parametrize("character", ["\x07", "\x1b", "\x7f"])
def test_other_control_characters_are_rejected_and_named(character):
    [message] = errors_for(f"hello{character}world")
    assert f"U+{ord(character):04X}" in message


def test_emoji_and_non_ascii_text_are_accepted():
    assert AnalyzeForm(data={"text": "Ça va? 👍 Grüße"}).is_valid()


def test_the_text_area_has_no_maxlength_so_pasted_text_is_never_cut(settings, client, fake_engine):
    settings.TOXMON_MAX_CHARS = 50
    html = client.get("/").content.decode()
    textarea = html[html.index("<textarea") : html.index("</textarea>")]
    assert "maxlength" not in textarea
    assert 'data-max-chars="50"' in textarea
    assert 'aria-describedby="text-help"' in textarea and "required" in textarea


def test_a_rejected_text_is_marked_invalid_and_kept_escaped(client, fake_engine):
    html = client.post("/", {"text": "<b>bold</b>\x07"}).content.decode()
    textarea = html[html.index("<textarea") : html.index("</textarea>")]
    assert 'aria-invalid="true"' in textarea
    assert "&lt;b&gt;bold&lt;/b&gt;" in textarea and "<b>" not in textarea


@pytest.mark.django_db
def test_the_checkbox_keeps_what_the_user_chose(client, fake_engine):
    assert 'id="id_explain" checked' in client.get("/").content.decode()
    unchecked = client.post("/", {"text": "hello"}).content.decode()
    assert 'id="id_explain">' in unchecked

"""Each filter at its threshold: just in, just out."""

import json
import random
import re

import pyarrow as pa
import pytest
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer

from hf_behavior.data import pipeline
from hf_behavior.data.dedup import _TOKENIZE, near_duplicates, per_group_tfidf, term_ids
from hf_behavior.data.filters import DEFAULTS, Filters, load_filter_configs
from hf_behavior.data.records import Record, to_unix
from hf_behavior.data.report import Funnel

from . import dumps
from .dumps import comment, submission

REDDIT, YOUTUBE = Filters(DEFAULTS["reddit"]), Filters(DEFAULTS["youtube"])


def post(**changes) -> Record:
    fields = dict(key="k", source="youtube_videos", platform="youtube", post_id="x", media_id="x", media_kind="video",
                  title="A calm video", origin="t", created_utc=to_unix("2020-01-01"), views=50_000, language="en")  # fmt: skip
    fields.update(changes)
    return Record(**fields)


def reddit_post(**changes) -> Record:
    return post(**{"platform": "reddit", "source": "reddit_images", "subreddit": "pics", "views": None, "language": None, **changes})


@pytest.mark.parametrize(
    "rules, record, reason",
    [
        (REDDIT, reddit_post(created_utc=to_unix("2018-01-01T00:00:00")), None),
        (REDDIT, reddit_post(created_utc=to_unix("2017-12-31T23:59:59")), "posted before 2018-01-01"),
        (REDDIT, reddit_post(subreddit="aww"), "subreddit not selected"),
        (REDDIT, reddit_post(nsfw=True), "nsfw flag"),
        (REDDIT, reddit_post(title="totally nsfw picture"), "nsfw words in title"),
        (REDDIT, reddit_post(title="Unsafe? no, a safe picture"), None),
        (REDDIT, reddit_post(author="AutoModerator"), "bot author"),
        (REDDIT, reddit_post(author="robot_lover"), None),
        (REDDIT, reddit_post(author="[deleted]"), "deleted/removed post"),
        (REDDIT, reddit_post(duration=500.0), None),
        (REDDIT, reddit_post(duration=500.01), "video longer than 500 s"),
        (YOUTUBE, post(views=10_001), None),
        (YOUTUBE, post(views=10_000), "views <= 10,000"),
        (YOUTUBE, post(categories=["Music"]), "excluded category 'Music'"),
        (YOUTUBE, post(categories=["News & Politics"]), "excluded category 'News & Politics'"),
        (YOUTUBE, post(categories=["Science & Technology"]), None),
        (YOUTUBE, post(language="en-US"), None),
        (YOUTUBE, post(language="fr"), "language 'fr' not in ['en']"),
        (YOUTUBE, post(duration=4000.0), None),  # no duration limit for YouTube in the paper
    ],
)
def test_post_filters(rules, record, reason):
    assert rules.post_reason(record) == reason


def test_pics_rule_change_date_is_its_own_window():
    rules = Filters(load_filter_configs(overrides=["reddit.min_date=null"])["reddit"])
    assert rules.post_reason(reddit_post(created_utc=to_unix("2015-02-01"))) is None
    assert rules.post_reason(reddit_post(created_utc=to_unix("2015-01-31T23:59:59"))) == "r/pics posted before 2015-02-01"
    assert rules.post_reason(reddit_post(subreddit="videos", created_utc=to_unix("2014-01-01"))) is None


@pytest.mark.parametrize(
    "rules, words, kept",
    [(REDDIT, 2, False), (REDDIT, 3, True), (YOUTUBE, 3, False), (YOUTUBE, 4, True), (YOUTUBE, 100, True), (YOUTUBE, 101, False)],
)
def test_comment_length(rules, words, kept):
    assert (rules.comment_reason(" ".join(["word"] * words), "x") is None) is kept


def test_comment_words_are_whitespace_runs_however_spaced():
    assert REDDIT.comment_reason("  two\twords \n", "x") == "fewer than 3 words"
    assert REDDIT.comment_reason(" three\u2003spaced  words ", "x") is None
    assert YOUTUBE.comment_reason("\n" + "  ".join(["w"] * 101) + " ", "x") == "more than 100 words"
    assert YOUTUBE.comment_reason("\n" + "  ".join(["w"] * 100) + "\t", "x") is None


def test_comment_bot_deleted_nsfw():
    assert REDDIT.comment_reason("[removed]", "x") == "deleted/removed comment"
    assert REDDIT.comment_reason("nice one my friend", "[deleted]") == "deleted/removed comment"
    assert REDDIT.comment_reason("nice one my friend", "RemindMeBot") == "bot author"
    assert REDDIT.comment_reason("that is so sexy wow", "x") == "nsfw words"
    kept, dropped = REDDIT.screen_comments([{"text": "a b", "author": "x"}, {"text": "a b c", "author": "x"}])
    assert [c["text"] for c in kept] == ["a b c"] and dropped == {"fewer than 3 words": 1}


@pytest.mark.parametrize(
    "name",
    ["AutoModerator", "automoderator\n", "AUTOMODERATOR", "automoderator2", "xautomoderator", "RemindMeBot", "BOT",
     "bot-watch", "my_bot_account", "robot_lover", "Bo t", "b0t", "ＢＯＴ", "ßbot", "İbot", "user123", "botanist"],
)  # fmt: skip
def test_bot_names_skipped_by_the_default_pattern_check_are_what_its_regex_says(name):
    """`is_bot` answers most names without the default regex: its answer is the regex's (a custom one is run)."""
    assert REDDIT.is_bot(name) == bool(re.match(DEFAULTS["reddit"].bot_pattern, name))
    custom = Filters(load_filter_configs(None, ["reddit.bot_pattern=^user"])["reddit"])
    assert custom.is_bot(name) == name.startswith("user")


def test_comments_of_unselected_subreddits_are_dropped_with_their_posts(tmp_path):
    """Their own checks are not run (the two-word one would fail them): they count where their posts' comments do.
    Nor are a submission's: one lacking a field is not selected rather than bad input."""
    posts = [submission("p1"), submission("a1", "aww"), submission("a2", "aww", upvote_ratio=None)]
    (tmp_path / "RS.ndjson").write_text("".join(json.dumps(post) + "\n" for post in posts))
    lines = [
        {**comment("p1", "lovely colours in this one", 3), "subreddit": "PICS"},  # selected, whatever its case
        {**comment("p1", "a shot worth framing", 2), "subreddit": "pics"},
        {**comment("a1", "so cute", 9), "subreddit": "aww"},
        {**comment("z9", "[deleted]", 1), "subreddit": "AskReddit"},
        comment("a1", "no subreddit field here", 1),  # looked up like any other
    ]
    (tmp_path / "RC.ndjson").write_text("".join(json.dumps(line) + "\n" for line in lines))
    inputs = pipeline.Inputs(reddit_submissions=[str(tmp_path / "RS.ndjson")], reddit_comments=[str(tmp_path / "RC.ndjson")])
    configs = load_filter_configs()
    configs["reddit"].require_media = False
    pipeline.ingest(inputs, configs, tmp_path)
    funnel = pipeline.ingest_funnel(tmp_path).to_dict()
    # the comment with no subreddit field is staged: that its post is not is found when they are joined
    assert funnel["inputs"]["comments"] == 5 and funnel["kept"]["comments"] == 3
    assert funnel["dropped"]["comments"] == {"post dropped": {pipeline.NO_POST: 2}}
    funnel = pipeline.ingest_funnel(tmp_path).merge(pipeline.finalize(tmp_path, configs, None)).to_dict()
    assert funnel["kept"]["comments"] == 2
    assert funnel["dropped"]["comments"] == {"post dropped": {pipeline.NO_POST: 3}}
    assert funnel["dropped"]["posts"] == {"post filters": {"subreddit not selected": 2}} and funnel["errors"] == {}


def test_filter_overrides_and_errors(tmp_path):
    config = tmp_path / "f.yaml"
    config.write_text("youtube:\n  min_views: 5000\nreddit:\n  subreddit_min_dates: {pics: 2019-03-01}\n")
    overrides = ["reddit.min_comment_words=5", "youtube.languages=null", "reddit.max_date=2020-02-01"]
    configs = load_filter_configs(config, overrides)
    assert configs["youtube"].min_views == 5000 and configs["youtube"].languages is None
    assert configs["reddit"].min_comment_words == 5 and configs["reddit"].tfidf_threshold == 0.6
    # unquoted dates, which YAML reads as dates, are ISO text like quoted ones
    assert configs["reddit"].max_date == "2020-02-01"
    assert configs["reddit"].subreddit_min_dates == {"pics": "2019-03-01"}
    rules = Filters(configs["reddit"])
    assert rules.post_reason(reddit_post(created_utc=to_unix("2020-02-01"))) == "posted on/after 2020-02-01"
    assert rules.post_reason(reddit_post(created_utc=to_unix("2019-02-28"))) == "r/pics posted before 2019-03-01"
    with pytest.raises(ValueError, match="min_view"):
        load_filter_configs(overrides=["youtube.min_view=3"])
    with pytest.raises(ValueError, match="FAMILY.FIELD=VALUE"):
        load_filter_configs(overrides=["min_views=3"])


def test_tfidf_matches_sklearn_per_post_and_threshold_is_inclusive():
    groups = [
        ["the harbour at sunset is beautiful", "the harbour at sunset looks beautiful today", "what lens did you use"],
        ["completely unrelated words", "the harbour at sunset is beautiful"],
    ]
    vectors, _ = per_group_tfidf(groups)
    reference = TfidfVectorizer().fit_transform(groups[0])
    similarity = float((reference[0] @ reference[1].T).toarray()[0, 0])
    assert abs(float((vectors[0] @ vectors[1].T).toarray()[0, 0]) - similarity) < 1e-12
    assert near_duplicates(groups, similarity - 1e-9)[0] == [False, True, False]  # just at/over: duplicate
    assert near_duplicates(groups, similarity + 1e-9)[0] == [False, False, False]  # just under: kept
    assert near_duplicates(groups, 0.01)[1] == [False, False]  # the same text in another post is not a duplicate


def test_batched_dedup_matches_one_tfidf_per_post():
    """Posts of every size (none, one, many comments) in one batch flag what a per-post TfidfVectorizer flags."""
    rng = random.Random(0)
    words = "Red car fast the harbour at sunset café olé x ok".split()
    groups = [[" ".join(rng.choices(words, k=rng.randrange(1, 6))) for _ in range(rng.randrange(0, 7))] for _ in range(60)]
    expected = []
    for group in groups:
        flags = [False] * len(group)
        if len(group) > 1:
            try:
                vectors = TfidfVectorizer().fit_transform(group)
            except ValueError:  # no token of two or more characters in the whole post
                vectors = None
            for b in range(len(group)):
                for a in range(b):
                    if vectors is not None and not flags[a] and (vectors[a] @ vectors[b].T).toarray()[0, 0] >= 0.6 - 1e-12:
                        flags[b] = True
                        break
        expected.append(flags)
    assert near_duplicates(groups, 0.6 - 1e-12) == expected
    assert sum(map(sum, expected)) > 10


def test_dedup_keeps_the_better_ranked_and_chains_only_through_kept():
    flags = near_duplicates([["red car fast", "red car fast", "red car fast"]], 0.6)
    assert flags == [[False, True, True]]


def test_tokens_are_count_vectorizers():
    """The dedup's token pattern (no boundary checks) finds what CountVectorizer's default pattern finds."""
    rng = random.Random(0)
    pieces = ["a", "ok", "x_y", "12", "café", "e\u0301", "İ", "ǅ", "𝐀𝐁", "ﬁ", " ", "\u00a0", ".", "-", "'", "\n", "\u200b"]
    texts = ["".join(rng.choices(pieces, k=rng.randrange(0, 12))) for _ in range(3000)]
    reference = CountVectorizer().build_tokenizer()
    assert [_TOKENIZE(t) for t in texts] == [reference(t) for t in texts]


def test_bulk_term_ids_are_the_regex_tokens_factorized():
    """ASCII texts split by the byte table and the others by the regex, in one batch, give the terms (ids by first
    appearance) and text indices that the regex over every lower-cased text gives."""
    rng = random.Random(0)
    pieces = ["a", "Ok", "x_Y", "12", "café", "İ", "K", "I’m", " ", ".", "-", "\n", "\x00", "\x1c", "\x7f", "\udcff"]
    for _ in range(200):
        texts = ["".join(rng.choices(pieces, k=rng.randrange(0, 10))) for _ in range(rng.randrange(0, 12))]
        tokens = [token for text in texts for token in _TOKENIZE(text.lower())]
        ids = {}
        expected = [ids.setdefault(token, len(ids)) for token in tokens]
        text_of = [i for i, text in enumerate(texts) for _ in _TOKENIZE(text.lower())]
        terms, token_text, n_terms = term_ids(texts)
        assert (terms.tolist(), token_text.tolist(), n_terms) == (expected, text_of, len(ids))


def test_nsfw_words_are_the_lowercased_runs_of_letters_digits_and_apostrophes():
    """The byte-table word split finds a listed word exactly where `[a-z0-9']+` over the lower-cased text does."""
    listed = sorted(REDDIT.nsfw_words)[:20]
    pieces = listed + ["a", "s", "'", "-", " ", "\n", "\u212a", "İ", "é", "ß", "_", "0", "\u00a0", "ﬁ", "?", "\udcff"]
    rng = random.Random(0)
    texts = ["".join(rng.choices(pieces, k=rng.randrange(0, 6))) for _ in range(20_000)]
    words = [re.findall(r"[a-z0-9']+", text.lower()) for text in texts]
    expected = {i for i, found in enumerate(words) if not REDDIT.nsfw_words.isdisjoint(found)}
    assert {i for i, text in enumerate(texts) if REDDIT.has_nsfw_words(text)} == expected
    assert {i for i, flag in enumerate(REDDIT.nsfw_flags(texts).tolist()) if flag} == expected  # one by one: "\udcff"
    storable = [i for i, text in enumerate(texts) if "\udcff" not in text]  # all looked up at once, in Arrow
    assert {storable[i] for i, flag in enumerate(REDDIT.nsfw_flags([texts[i] for i in storable])) if flag} == {
        i for i in expected if i in set(storable)
    }
    assert 0 < len(expected) < len(texts) and REDDIT.nsfw_flags([]).tolist() == []


def test_listed_words_that_hold_a_non_word_character_are_never_found(tmp_path):
    """The split cuts at what is not [a-z0-9'], so "f-ck" can match no word of a text: not in bulk either."""
    (tmp_path / "words.txt").write_text("f-ck\nsexy\n")
    rules = Filters(load_filter_configs(None, [f"reddit.nsfw_words_file={tmp_path / 'words.txt'}"])["reddit"])
    texts = ["what the f-ck", "so SEXY.", "sexy-ish", "plain text"]
    flags = [rules.has_nsfw_words(text) for text in texts]
    assert flags == rules.nsfw_flags(texts).tolist() == [False, True, True, False]
    (tmp_path / "words.txt").write_text("f-ck\n")
    rules = Filters(load_filter_configs(None, [f"reddit.nsfw_words_file={tmp_path / 'words.txt'}"])["reddit"])
    assert rules.nsfw_flags(texts).tolist() == [False] * 4


def test_comment_reasons_in_bulk_are_comment_reason_of_each():
    """In bulk (Arrow over the ASCII texts without the separators Python's whitespace adds, one by one for the
    others) a comment's drop reason is `comment_reason`'s, for any spacing, marker, author or setting."""
    pieces = ["word", "sexy", "Nsfw", " ", "  ", "\t", "\n", "\x0b", "\x0c", "\r", "\x1c", "\x1f", "\u3000", "\xa0",
              "\u2003", "[deleted]", "[removed]", "é", "İ", "\u212a", "-", "'"]  # fmt: skip
    names = [None, "x", "[deleted]", "[removed]", "RemindMeBot", "AutoModerator", "botanist", "ＢＯＴ", "robot_x",
             "\u212aarl", "İbot", "user1", "ok"]  # fmt: skip
    rng = random.Random(0)
    texts = ["".join(rng.choices(pieces, k=rng.randrange(0, 8))) for _ in range(5_000)]
    spacings = [(sep, end) for sep in (" ", "\t ", "\x1c") for end in ("", " ")]
    texts += [sep.join(["w"] * n) + end for n in (3, 4, 99, 100, 101, 102) for sep, end in spacings]
    authors = rng.choices(names, k=len(texts))
    configs = load_filter_configs(None, ["reddit.bot_pattern=^(user|x)$", "generic.drop_deleted=false",
                                         "generic.min_comment_words=null", "generic.nsfw_words_file="])  # fmt: skip
    seen = set()
    for rules in (REDDIT, YOUTUBE, Filters(configs["reddit"]), Filters(configs["generic"])):  # >= BULK_COMMENTS
        expected = [rules.comment_reason(text, author) for text, author in zip(texts, authors)]
        assert rules.comment_reasons(texts, authors) == expected
        assert rules.comment_reasons(pa.array(texts), pa.array(authors)) == expected
        seen.update(expected)
    assert seen == {None, "deleted/removed comment", "bot author", "fewer than 3 words", "fewer than 4 words",
                    "more than 100 words", "nsfw words"}  # fmt: skip


def test_a_block_of_comment_lines_is_staged_at_once_as_line_by_line():
    """`comment_lines` (all of a block's comments at once, in Arrow) stages the rows and counts the funnel, drop
    examples' file:line included, that `line_by_line` does; a block it cannot take whole it leaves to
    `line_by_line`, counting nothing."""
    stager = pipeline._Stager({name: Filters(cfg) for name, cfg in load_filter_configs().items()}, pipeline.Inputs())
    missing = object()
    changes = [{}, {"subreddit": "PICS"}, {"subreddit": "aww"}, {"subreddit": None}, {"subreddit": "pics"},
               {"score": None}, {"score": missing}, {"score": -(2**63)}, {"body": None}, {"body": missing},
               {"body": "[deleted]  "}, {"body": "too short"}, {"body": "so sexy right there"},
               {"body": "café\u3000au lait avec\x1cmoi"}, {"link_id": "t1_abc"}, {"link_id": None},
               {"link_id": missing}, {"author": None}, {"author": missing}, {"author": "AutoModerator"}]  # fmt: skip
    rng = random.Random(0)
    lines = []
    for i in range(3_000):
        text = " ".join(rng.choices(["nice", "shot", "sky", "wow", "the"], k=rng.randrange(1, 9)))
        line = comment(f"p{i % 40}", text, rng.randrange(-5, 100), rng.choice(["ann", "bob", "RemindMeBot"]))
        for name, value in rng.choice(changes).items():
            line.pop(name) if value is missing else line.__setitem__(name, value)
        lines.append(json.dumps(line).encode())

    def staged(lines):
        at_once, one_by_one = Funnel(), Funnel()
        rows = stager.comment_lines("RC", 7, lines, at_once)
        expected = stager.line_by_line("comments", "RC", 7, lines, one_by_one)
        return rows, at_once.to_dict(), expected, one_by_one.to_dict()

    rows, funnel, (expected_rows, inputs), expected_funnel = staged(lines)
    assert rows == expected_rows and funnel == expected_funnel and inputs == len(lines)
    assert 500 < len(rows) < 2_000 and set(funnel["dropped"]["comments"]) == {"post dropped", "read", "comment filters"}
    for bad in ('', ' ', '{"link_id": ', '[1]', 'null', '{"link_id": "t3_a", "body": "a b c", "score": 1.5}',
                '{"link_id": "t3_a", "body": "a b c", "score": true}',
                '{"link_id": "t3_a", "body": "a b c", "score": 2e3}',
                '{"link_id": "t3_a", "body": "a b c", "score": 9223372036854775808}', '{"link_id": "t3_a", "body": 5}',
                '{"link_id": 5, "body": "a b c"}', '{"link_id": "t3_a", "body": "a b c", "author": 5}',
                '{"link_id": "t3_a", "body": "a b c", "subreddit": ["pics"]}', '{"body": "\\ud800 b c"}'):  # fmt: skip
        funnel = Funnel()
        assert stager.comment_lines("RC", 7, lines[:5] + [bad.encode()] + lines[5:9], funnel) is None, bad
        assert funnel.to_dict() == Funnel().to_dict()


@pytest.mark.parametrize(
    "overrides",
    [[], ["reddit.require_media=false", "reddit.drop_deleted=false", "reddit.bot_pattern='(?i).*fan$'"],
     ["reddit.subreddits=null", "reddit.max_date=2019-06-09", "reddit.nsfw_words_file=''"], ["reddit.min_views=5"]],
)  # fmt: skip
def test_a_block_of_submission_lines_is_staged_at_once_as_line_by_line(tmp_path, overrides):
    """`submission_lines` (titles and authors looked up for the whole block, posts of the common shape built from their
    fields) stages the rows and counts the funnel, drop examples' file:line included, that `line_by_line` does, over
    every field's odd values and several filter settings; a block it cannot take whole it leaves to `line_by_line`,
    counting nothing."""
    for post_id in ("p1", "p3", "p5", "p7"):
        (tmp_path / f"{post_id}.jpg").write_bytes(post_id.encode())
    configs = load_filter_configs(overrides=overrides)
    filters = {name: Filters(cfg) for name, cfg in configs.items()}
    stager = pipeline._Stager(filters, pipeline.Inputs(reddit_media=[str(tmp_path)]))
    missing = object()
    changes = [{}, {}, {}, {"subreddit": "PICS"}, {"subreddit": "aww"}, {"subreddit": None}, {"subreddit": missing},
               {"subreddit": 5}, {"subreddit": "videos", "url": "https://www.youtube.com/watch?v=vidRedd0001"},
               {"url": "https://imgur.com/a.jpg"}, {"url": "HTTPS://I.REDD.IT/a.jpg"}, {"url": "https://[::1/a.jpg"},
               {"url": None}, {"url": 5}, {"id": None}, {"id": 7}, {"score": None}, {"score": 1.5}, {"score": True},
               {"score": 2**63}, {"score": -(2**63)}, {"upvote_ratio": 1}, {"upvote_ratio": 0.5}, {"upvote_ratio": 1.5},
               {"upvote_ratio": None}, {"upvote_ratio": True}, {"upvote_ratio": 0.5000001, "score": 2**62},
               {"title": None}, {"title": "so sexy right there"}, {"title": "[deleted]"}, {"title": "Café au lait"},
               {"author": None}, {"author": "AutoModerator"}, {"author": "[deleted]"}, {"author": "harbour_fan"},
               {"created_utc": dumps.T2017}, {"created_utc": "2019-06-08"}, {"created_utc": 1.56e9},
               {"created_utc": None}, {"created_utc": 10**13}, {"created_utc": False}, {"over_18": True},
               {"over_18": "no"}, {"removed_by_category": "moderator"}, {"selftext": "[removed]"}]  # fmt: skip
    rng = random.Random(0)
    lines = []
    for i in range(3_000):
        line = submission(f"p{i % 9}", score=rng.randrange(-5, 10**6), upvote_ratio=rng.random())
        for name, value in rng.choice(changes).items():
            line.pop(name, None) if value is missing else line.__setitem__(name, value)
        lines.append(json.dumps(line).encode())

    at_once, one_by_one = Funnel(), Funnel()
    rows = stager.submission_lines("RS", 7, lines, at_once)
    expected, inputs = stager.line_by_line("submissions", "RS", 7, lines, one_by_one)
    assert rows == expected and at_once.to_dict() == one_by_one.to_dict() and inputs == len(lines)
    assert len(rows) < 2_500 and len(at_once.to_dict()["dropped"]["posts"]["post filters"]) > 2
    assert (len(rows) > 100) == ("reddit.min_views=5" not in overrides)  # Reddit posts have no views
    for bad in ('', ' ', '{"id": ', '[1]', 'null', '{"id": "p1", "title": 5}', '{"id": "p1", "author": ["a"]}',
                '{"id": "p1", "title": "\\ud800"}'):  # fmt: skip
        funnel = Funnel()
        assert stager.submission_lines("RS", 7, lines[:5] + [bad.encode()] + lines[5:9], funnel) is None, bad
        assert funnel.to_dict() == Funnel().to_dict()

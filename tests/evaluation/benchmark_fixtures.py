"""Tiny copies of each paper benchmark in its published layout: real file names, columns and folder structure, with
media generated here (PIL images, PyAV clips). Each writer returns what the adapter must read back, in its order:
the labels, the targets, or (for QA / choice) the fields that identify each record."""

import json
from pathlib import Path

import numpy as np
from PIL import Image

from hf_behavior.synthetic_media import write_scene_video


def image(path: Path, seed: int = 0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.random.default_rng(seed).integers(0, 255, (24, 32, 3), dtype=np.uint8)).save(path)
    return path


def video(path: Path, seed: int = 0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    colours = [tuple(int(c) for c in np.random.default_rng(seed + i).integers(0, 255, 3)) for i in range(2)]
    return write_scene_video(path, seconds_per_scene=1, fps=2, size=(32, 24), colours=colours)


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def videoemotion8(root):
    video(root / "Joy" / "joy_01.mp4", 1)
    video(root / "Fear" / "fear_07.mp4", 2)
    video(root / "Trust" / "trust_03.mp4", 3)
    return ["fear", "joy", "trust"]


def caer(root):
    video(root / "train" / "Anger" / "0001.avi", 9)  # other splits are not read
    video(root / "test" / "Happy" / "0001.avi", 1)
    video(root / "test" / "Sad" / "0002.avi", 2)
    video(root / "test" / "Neutral" / "0003.avi", 3)
    return ["happy", "neutral", "sad"]


def ekman6(root):
    video(root / "anger" / "anger_1.mp4", 1)
    video(root / "surprise" / "surprise_1.mp4", 2)
    video(root / "joy" / "joy_4.mp4", 3)
    return ["anger", "joy", "surprise"]


def iapsa8(root):
    image(root / "amusement" / "1463.jpg", 1)
    image(root / "sad" / "2141.jpg", 2)
    image(root / "awe" / "5600.jpg", 3)
    return ["amusement", "awe", "sadness"]


def abstract(root):
    header = "'Filename','Amusement','Anger','Awe','Content','Disgust','Excitement','Fear','Sad'"
    rows = ["'abstr_01.jpg',5,1,0,2,0,1,0,3", "'abstr_02.jpg',0,0,1,1,0,2,7,1",
            "'abstr_03.jpg',3,3,0,0,0,0,0,0",  # a tie: ambiguous, skipped
            "'abstr_04.jpg',0,0,0,1,0,0,0,9"]
    write(root / "ABSTRACT_groundTruth.csv", "\n".join([header, *rows]) + "\n")
    for i in range(1, 5):
        image(root / "testImages_abstract" / f"abstr_0{i}.jpg", i)
    return ["amusement", "fear", "sadness"]


def emotion6(root):
    header = "[image_filename]\t[valence]\t[arousal]\t[prob. anger]\t[prob. disgust]\t[prob. fear]\t[prob. joy]\t" \
             "[prob. sadness]\t[prob. surprise]\t[prob. neutral]"
    rows = ["anger/1.jpg\t3.1\t6.2\t0.6\t0.1\t0.1\t0\t0.1\t0\t0.1", "joy/7.jpg\t7.4\t5.0\t0\t0\t0\t0.8\t0\t0.1\t0.1",
            "surprise/3.jpg\t5.2\t6.8\t0.1\t0\t0.1\t0.1\t0\t0.5\t0.2"]
    write(root / "ground_truth.txt", "\n".join([header, *rows]) + "\n")
    for i, row in enumerate(rows):
        image(root / "images" / row.split("\t")[0], i)
    return ["anger", "joy", "surprise"]


def emoset(root):
    entries = [["amusement", "image/amusement/amusement_00001.jpg", "annotation/amusement/amusement_00001.json"],
               ["fear", "image/fear/fear_00031.jpg", "annotation/fear/fear_00031.json"],
               ["awe", "image/awe/awe_00002.jpg", "annotation/awe/awe_00002.json"]]
    write(root / "test.json", json.dumps(entries))
    for i, (_, path, annotation) in enumerate(entries):
        image(root / path, i)
        write(root / annotation, json.dumps({"emotion": entries[i][0]}))
    return ["amusement", "fear", "awe"]


def lamem(root):
    write(root / "splits" / "test_1.txt", "00001.jpg 0.81\n00002.jpg 0.65\n00003.jpg 0.9\n")
    write(root / "splits" / "test_2.txt", "00004.jpg 0.5\n")
    for i in range(1, 4):
        image(root / "images" / f"0000{i}.jpg", i)
    return [0.81, 0.65, 0.9]


def memcat(root):
    header = "index,image_file,category,subcategory,source,memorability_wo_fa_correction,memorability_w_fa_correction"
    rows = ["0,n01234_1.jpg,animal,bear,imagenet,0.7,0.62", "1,COCO_2.jpg,food,cake,coco,0.8,0.75",
            "2,sun_3.jpg,landscape,beach,sun,0.5,0.41"]
    write(root / "data" / "memcat_image_data.csv", "\n".join([header, *rows]) + "\n")
    for i, row in enumerate(rows):
        _, name, category, subcategory, *_ = row.split(",")
        image(root / "images" / category / subcategory / name, i)
    return [0.62, 0.75, 0.41]


def sun(root):
    write(root / "scores.csv", "media,score\nsun_aaa.jpg,0.77\nsun_bbb.jpg,0.52\nsun_ccc.jpg,0.6\n")
    for i, name in enumerate(("sun_aaa", "sun_bbb", "sun_ccc")):
        image(root / "images" / f"{name}.jpg", i)
    return [0.77, 0.52, 0.6]


def lambda_(root):
    write(root / "scores.csv", "media,score\nad_01.mp4,0.3\nad_02.mp4,0.45\nad_03.mp4,0.1\n")
    for i in range(1, 4):
        video(root / "videos" / f"ad_0{i}.mp4", i)
    return [0.3, 0.45, 0.1]


def memento10k(root):
    entries = [{"filename": "00001.mp4", "mem_score": 0.91, "alpha": -0.01},
               {"filename": "00042.mp4", "mem_score": 0.77, "alpha": -0.02},
               {"filename": "00100.mp4", "mem_score": 0.85, "alpha": -0.01}]
    write(root / "memento_val_data.json", json.dumps(entries))
    for i, entry in enumerate(entries):
        video(root / "videos" / entry["filename"], i)
    return [0.91, 0.77, 0.85]


def videomem(root):
    header = "video,short-term_memorability,nb_short-term_annotations,long-term_memorability,nb_long-term_annotations"
    rows = ["video10.webm,0.924,34,0.846,13", "video100.webm,0.923,33,0.667,12", "video1000.webm,0.8,35,0.5,11"]
    write(root / "ground-truth_dev-set.csv", "\n".join([header, *rows]) + "\n")
    for i, row in enumerate(rows):
        video(root / "resized_mp4" / row.split(",")[0].replace(".webm", ".mp4"), i)
    return [0.924, 0.923, 0.8]


def mediaeval(root):
    header = "video_id,annotations_short_term,annotations_long_term,scores_raw_short_term,scores_raw_long_term," \
             "scores_normalized_short_term,decay_alpha"
    rows = ["00007,30,12,0.9,0.8,0.91,-0.01", "00012,31,11,0.7,0.6,0.72,-0.02", "00031,29,10,0.8,0.7,0.83,-0.01"]
    write(root / "dev-set" / "dev_scores.csv", "\n".join([header, *rows]) + "\n")
    for i, row in enumerate(rows):
        video(root / "dev-set" / "Videos" / f"{row.split(',')[0]}.mp4", i)
    return [0.91, 0.72, 0.83]


LVU_ROWS = {
    "relationship": ("relationship youtube_id imdb_id",
                     {"train": ["1 wife_husband yid_c tt03"],
                      "test": ["0 friends yid_a tt01", "2 boyfriend_girlfriend yid_b tt02"]}),
    "way_speaking": ("way_speaking youtube_id imdb_id", {"test": ["0 explain yid_a tt01", "1 confront yid_b tt02"]}),
    "scene": ("scene youtube_id imdb_id", {"test": ["0 office yid_a tt01", "3 restaurant yid_b tt02"]}),
    "director": ("director youtube_id imdb_id", {"test": ["0 Ridley Scott yid_a tt01", "1 Ron Howard yid_b tt02"]}),
    "writer": ("writer youtube_id imdb_id", {"test": ["0 Stephen King yid_a tt01", "1 Jane Austen yid_b tt02"]}),
    "genre": ("genre youtube_id imdb_id", {"test": ["0 action yid_a tt01", "1 comedy yid_b tt02"]}),
    "year": ("year youtube_id imdb_id", {"test": ["0 1930s yid_a tt01", "1 1940s yid_b tt02"]}),
    "like_ratio": ("like dislike youtube_id imdb_id", {"test": ["90 10 yid_a tt01", "40 10 yid_b tt02"]}),
    "view_count": ("view_count youtube_id imdb_id", {"test": ["1000 yid_a tt01", "250000 yid_b tt02"]}),
}
LVU_EXPECTED = {"relationship": ["friends", "boyfriend girlfriend"], "way_speaking": ["explain", "confront"],
                "scene": ["office", "restaurant"], "director": ["Ridley Scott", "Ron Howard"],
                "writer": ["Stephen King", "Jane Austen"], "genre": ["action", "comedy"], "year": ["1930s", "1940s"],
                "like_ratio": [9.0, 8.0], "view_count": [1000.0, 250000.0]}


def lvu(root, task):
    for name, (header, splits) in LVU_ROWS.items():
        for split, rows in splits.items():
            write(root / "lvu_1.0" / name / f"{split}.csv", "\n".join([header, *rows]) + "\n")
    for i, youtube_id in enumerate(("yid_a", "yid_b", "yid_c")):
        video(root / "videos" / f"{youtube_id}.mp4", i)
    return LVU_EXPECTED[task]


def ads(root):
    """The Pitt image-ads archive: annotations_images/image/*.json keyed by '<folder>/<id>.jpg', images in 0/, 1/."""
    folder = root / "annotations_images" / "image"
    keys = ["0/10001.jpg", "0/10002.jpg", "1/20003.jpg"]
    write(folder / "Topics.json", json.dumps({keys[0]: ["1", "1", "2"], keys[1]: ["2", "2", "car ad"],
                                              keys[2]: ["3"]}))
    write(folder / "Sentiments.json", json.dumps({keys[0]: [["4"], ["4", "5"]], keys[1]: [["5"], ["5"]],
                                                  keys[2]: [["4"], ["6"], ["4"]]}))
    write(folder / "QA_Action.json", json.dumps({
        keys[0]: ["I should eat here", "I should try the burger"], keys[1]: ["I should buy chocolate"],
        keys[2]: ["I should buy this car", "I should drive safely"]}))
    write(folder / "QA_Reason.json", json.dumps({
        keys[0]: ["Because it is tasty"], keys[1]: ["Because it is sweet"], keys[2]: ["Because it is fast"]}))
    write(folder / "Topics_List.txt", '1 Restaurants, cafe, fast food ("restaurant")\n'
                                      '2 Chocolate, cookies, candy, ice cream ("chocolate")\n'
                                      '3 Cars, automobiles ("car")\n')
    write(folder / "Sentiments_List.txt", '4 Active (energetic, etc.) ("active")\n5 Amazed ("amazed")\n'
                                          '6 Cheerful ("cheerful")\n')
    for i, key in enumerate(keys):
        image(root / key, i)
    return keys


def ads_topic(root):
    ads(root)
    return ["restaurant", "chocolate", "car"]


def ads_sentiment(root):
    ads(root)
    return ["active", "amazed", "active"]


def persuasion(root):
    write(root / "persuasion_strategies.json", json.dumps({
        "vid_a": ["social identity", "reciprocity"], "vid_b": ["anchoring and comparison"], "vid_c": ["reciprocity"]}))
    for i, name in enumerate(("vid_a", "vid_b", "vid_c")):
        video(root / "videos" / f"{name}.mp4", i)
    return ["social identity", "anchoring and comparison", "reciprocity"]


QA = [("what is the man doing?", "cooking"), ("who is talking?", "woman"), ("what color is the car?", "red")]


def msvd_qa(root):
    entries = [{"video_name": f"clip{i}", "question": q, "answer": a, "question_id": i} for i, (q, a) in enumerate(QA)]
    write(root / "test_qa.json", json.dumps(entries))
    for i in range(3):
        video(root / "videos" / f"clip{i}.avi", i)
    return QA


def msrvtt_qa(root):
    entries = [{"video_id": f"video{7010 + i}", "question": q, "answer": a, "id": i} for i, (q, a) in enumerate(QA)]
    write(root / "test_qa.json", json.dumps(entries))
    for i in range(3):
        video(root / "TestVideo" / f"video{7010 + i}.mp4", i)
    return QA


def activitynet_qa(root):
    write(root / "test_q.json", json.dumps([{"video_name": f"abc{i}", "question": q, "question_id": f"q{i}"}
                                            for i, (q, _) in enumerate(QA)]))
    write(root / "test_a.json", json.dumps([{"answer": a, "type": 0, "question_id": f"q{i}"}
                                            for i, (_, a) in enumerate(QA)]))
    for i in range(3):
        video(root / "all_test" / f"v_abc{i}.mp4", i)
    return QA


def dense_captions(root):
    return [str(image(root / f"photo_{i}.jpg", i)) for i in range(3)]


IMDB_REVIEWS = {  # folder -> [(file name as the archive has it: <id>_<rating>.txt, text)]
    "test/pos": [("0_10.txt", "I went and saw this movie last night.<br /><br />A wonderful film."),
                 ("1_7.txt", "Not bad at all, a pleasant surprise.")],
    "test/neg": [("0_2.txt", "Once again Mr. Costner has dragged out a movie for far longer than necessary."),
                 ("1_3.txt", "This is an example of why the majority of action films are the same.")],
    "train/pos": [("0_9.txt", "Bromwell High is a cartoon comedy. It ran at the same time as some other programs.")],
    "train/neg": [("0_3.txt", "Story of a man who has unnatural feelings for a pig.")],
}


def imdb(root):
    """aclImdb_v1.tar.gz unpacked: aclImdb/{test,train}/{pos,neg}/<id>_<rating>.txt, with the archive's other files."""
    for folder, reviews in IMDB_REVIEWS.items():
        for name, text in reviews:
            write(root / "aclImdb" / folder / name, text)
    write(root / "aclImdb" / "imdb.vocab", "the\nand\na\n")
    write(root / "aclImdb" / "test" / "urls_pos.txt", "http://www.imdb.com/title/tt0453418/usercomments\n" * 2)
    return ["negative", "positive", "negative", "positive"]  # alternating by review id


HVU_EXPECTED = {"scene": [["beach"], ["kitchen"]], "object": [["dog"], ["dog", "knife"]],
                "action": [["running"], ["cooking"]], "event": [["vacation"], ["party"]],
                "attribute": [["sunny"], ["sunny"]], "concept": [["fun"], ["food"]]}


def hvu(root, category):
    tags = {"beach": "scene", "kitchen": "scene", "dog": "object", "knife": "object", "running": "action",
            "cooking": "action", "vacation": "event", "party": "event", "sunny": "attribute", "fun": "concept",
            "food": "concept"}
    write(root / "HVU_Tags_Categories_V1.0.csv", "Tag,Category\n" + "".join(f"{t},{c}\n" for t, c in tags.items()))
    write(root / "HVU_Val_V1.0.csv", "Tags,youtube_id,time_start,time_end\n"
                                     "beach|dog|running|vacation|sunny|fun,yid_one,10,20\n"
                                     "kitchen|dog|knife|cooking|party|sunny|food,yid_two,0,10\n")
    video(root / "val" / "yid_one_000010_000020.mp4", 1)
    video(root / "val" / "yid_two_000000_000010.mp4", 2)
    return HVU_EXPECTED[category]


def writers() -> dict:
    """benchmark name -> writer(root) -> expected; families share one writer with the task bound."""
    table = {"videoemotion8": videoemotion8, "caer": caer, "ekman6": ekman6, "iapsa8": iapsa8, "abstract": abstract,
             "emotion6": emotion6, "emoset": emoset, "lamem": lamem, "memcat": memcat, "sun": sun,
             "memento10k": memento10k, "videomem": videomem, "mediaeval": mediaeval, "lambda": lambda_,
             "ads-topic": ads_topic, "ads-sentiment": ads_sentiment, "ads-action": ads, "ads-reason": ads,
             "persuasion": persuasion, "msvd-qa": msvd_qa, "msrvtt-qa": msrvtt_qa,
             "activitynet-qa": activitynet_qa, "dense-captions": dense_captions, "imdb": imdb, "imdb-1shot": imdb}
    table |= {f"lvu-{task}": (lambda root, task=task: lvu(root, task)) for task in LVU_ROWS}
    table |= {f"hvu-{category}": (lambda root, category=category: hvu(root, category)) for category in HVU_EXPECTED}
    return table

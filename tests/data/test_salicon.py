import numpy as np

from hf_behavior.data.salicon import instance_mask, iter_salicon, rank_regions, saliency_map

from .dumps import write_salicon


def test_saliency_map_uses_one_based_row_col():
    saliency = saliency_map([[1, 1], [1, 1], [200, 200]], 50, 60)  # last point outside: ignored
    assert saliency.shape == (50, 60) and saliency[0, 0] == saliency.max() == 1.0


def test_hot_spot_ranks_its_object_and_tile_first(tmp_path):
    paths = write_salicon(tmp_path)
    first, second = iter_salicon(paths["salicon_fixations"], paths["coco_instances"], tmp_path)
    assert [name for name, _ in first["objects"]] == ["dog", "frisbee", "car"]
    assert first["regions"][0][0] == "upper-right"
    assert first["media_path"] == str(tmp_path / "COCO_1.jpg")
    assert second["num_fixations"] == 0 and second["objects"] == []


def test_compressed_rle_and_polygon_masks(tmp_path):
    write_salicon(tmp_path)
    import json

    annotations = json.loads((tmp_path / "instances.json").read_text())["annotations"]
    frisbee = instance_mask(annotations[2]["segmentation"], 90, 120)
    expected = np.zeros((90, 120), dtype=bool)
    expected[40:55, 50:70] = True
    assert (frisbee == expected).all()
    car = instance_mask(annotations[0]["segmentation"], 90, 120)
    assert car[70, 20] and not car[10, 100]


def test_region_ranking_of_a_single_hot_tile():
    saliency = np.zeros((90, 90))
    saliency[65:85, 35:55] = 1.0  # bottom-center
    assert rank_regions(saliency)[0][0] == "bottom-center"

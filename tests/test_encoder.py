import numpy as np

from embeddings.encoder import Encoder


def test_token_vectors_are_unit_vectors_of_the_text_s_word_pieces(encoder: Encoder) -> None:
    text = "He took the occasion to present his Japanese guest with the White Paper."
    vectors, spans = encoder.token_vectors(text)
    assert vectors.shape == (len(spans), encoder.dim)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    pieces = [text[start:end] for start, end in spans]
    assert pieces[:4] == ["He", "took", "the", "occasion"] and pieces[-1] == "."
    # In context, "present" (the verb) is nearer to itself in another sentence than to an unrelated word.
    other, other_spans = encoder.token_vectors("Lich will present the award.")
    present = vectors[pieces.index("present")]
    other_pieces = ["Lich will present the award."[s:e] for s, e in other_spans]
    assert present @ other[other_pieces.index("present")] > present @ other[other_pieces.index("award")]

"""Abstention: the off-topic classifier, its calibration, and where its examples come from."""

from __future__ import annotations

from kb.abstain import OFF_TOPIC_EXAMPLES, ON_TOPIC_EXAMPLES, OffTopicClassifier, example_questions


def test_bundled_examples_are_distinct_and_disjoint() -> None:
    on_topic, off_topic = example_questions(ON_TOPIC_EXAMPLES), example_questions(OFF_TOPIC_EXAMPLES)
    assert len(on_topic) >= 300 and len(off_topic) >= 150
    assert not set(on_topic) & set(off_topic)
    assert not any(line.startswith("#") for line in on_topic + off_topic)


def test_the_classifier_tells_chit_chat_from_policy_questions_it_has_not_seen() -> None:
    classifier = OffTopicClassifier(example_questions(ON_TOPIC_EXAMPLES), example_questions(OFF_TOPIC_EXAMPLES))
    for question in ("今天天气怎么样", "推荐一部电视剧", "Python怎么写循环", "讲个笑话吧"):
        assert classifier.is_off_topic(question), question
    for question in ("社保断了三个月还能接着交吗", "公租房申请要什么条件", "工伤赔偿标准是多少",
                     "投诉小区物业乱收停车费", "疫情期间个体户房租能减免吗"):
        assert not classifier.is_off_topic(question), question


def test_the_threshold_refuses_at_most_the_stated_share_of_held_out_policy_questions() -> None:
    on_topic, off_topic = example_questions(ON_TOPIC_EXAMPLES), example_questions(OFF_TOPIC_EXAMPLES)
    strict = OffTopicClassifier(on_topic, off_topic, max_refused=0.05)
    lenient = OffTopicClassifier(on_topic, off_topic, max_refused=0.001)
    assert strict.threshold < lenient.threshold
    # in-sample the model knows its examples, so it refuses no more than it was allowed out of sample
    assert sum(lenient.is_off_topic(q) for q in on_topic) <= 0.001 * len(on_topic) + 1


def test_too_few_examples_never_refuse() -> None:
    classifier = OffTopicClassifier(["社保怎么交"], ["你好"])
    assert classifier.threshold == float("inf") and not classifier.is_off_topic("你好")
    assert not OffTopicClassifier(example_questions(ON_TOPIC_EXAMPLES), example_questions(OFF_TOPIC_EXAMPLES),
                                  max_refused=0).is_off_topic("讲个笑话吧")


def test_a_kept_state_gives_the_same_classifier_for_any_share_refused() -> None:
    """The build keeps the fitted model and held-out scores; a server restores it instead of
    fitting 25 models again, and a changed ``max_refused`` moves only the threshold."""
    import json

    on_topic, off_topic = example_questions(ON_TOPIC_EXAMPLES), example_questions(OFF_TOPIC_EXAMPLES)
    state = json.loads(json.dumps(OffTopicClassifier(on_topic, off_topic).state()))  # as kept on disk
    for max_refused in (0.003, 0.05):
        fitted = OffTopicClassifier(on_topic, off_topic, max_refused=max_refused)
        restored = OffTopicClassifier.from_state(state, max_refused=max_refused)
        assert restored.threshold == fitted.threshold
        for question in ["今天天气怎么样", "社保断缴了还能补吗", "推荐个旅游景点"]:
            assert restored.score(question) == fitted.score(question)
            assert restored.is_off_topic(question) == fitted.is_off_topic(question)


def test_the_build_keeps_the_classifier_and_a_new_faq_question_refits_it(built_kb) -> None:
    from kb.abstain import examples_digest, known_examples

    searcher = built_kb.searcher
    state = searcher.index.off_topic
    assert state is not None and state["examples"] == examples_digest(known_examples(built_kb.store.known_questions()))
    assert searcher.off_topic.threshold == OffTopicClassifier.from_state(state).threshold
    assert state["examples"] != examples_digest(["新办的FAQ问题怎么问"])

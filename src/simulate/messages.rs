//! What simulated students write: short messages like the ones the service really receives,
//! with and without diacritics, in teen code and in English. The pipeline benchmark
//! (`actors/benches/pipeline.rs`) sends the first twelve ordinary and the first two crisis
//! messages, so those keep their places.

/// Everyday worries; none of them is a crisis. Some contain hyperbole ("mệt muốn chết") that the
/// detector must not flag, because real traffic is full of it.
pub const ORDINARY: &[&str] = &[
    "Mai mình thi học kỳ môn Toán rồi mà vẫn chưa ôn xong, cứ mở sách ra là đầu óc trống rỗng, lo quá.",
    "Dạo này bố mẹ cứ so sánh mình với con nhà hàng xóm, mình cố gắng mấy cũng không thấy đủ, buồn lắm.",
    "Hôm nay đi học mệt muốn chết, bài tập nhóm thì mỗi mình làm, mấy bạn kia cứ đùn đẩy cho mình hoài.",
    "minh moi chuyen len thanh pho hoc dai hoc, chua quen ai het, toi nao cung thay co don kinh khung.",
    "Crush rep tin nhắn của mình có mỗi chữ ừ, mình có nên nhắn tiếp không hay thôi để vậy cho đỡ quê.",
    "Mình bị mất ngủ cả tuần nay vì lo chuyện điểm số, sáng dậy lên lớp không tập trung nổi cái gì cả.",
    "ko hiu sao dạo này t hay cáu với mọi ng xung quanh, xong lại thấy có lỗi, mệt mỏi vl luôn á bạn.",
    "Mình với đứa bạn thân cãi nhau to, giờ nó không nói chuyện với mình nữa, mình không biết làm sao.",
    "Thầy chủ nhiệm gọi phụ huynh vì mình nghỉ học mấy buổi, giờ về nhà chắc bị mắng, sợ lắm luôn á.",
    "Năm nay mình thi đại học mà chưa biết chọn ngành gì, bố mẹ muốn mình học y nhưng mình thích vẽ.",
    "cả lớp đi chơi mà không ai rủ mình, chắc tại mình nhạt quá, nghĩ lại thấy tủi thân ghê mn ạ.",
    "I have so many deadlines this week and I feel like I am drowning, I cannot focus on anything now.",
    "hnay bị cô gọi lên bảng mà k làm đc bài, cả lớp cười, xấu hổ muốn độn thổ luôn á huhu.",
    "bme t ly hon r, t ko bt nen o voi ai, ca 2 deu bat t chon, met moi qua di mat.",
    "Mình học lớp 12, áp lực thi cử nhiều quá, tối nào cũng học đến 2 giờ sáng mà điểm vẫn không lên.",
    "Mình đang làm thêm ở quán cà phê để đóng học phí, đi làm về mệt quá không còn sức học bài nữa.",
    "Ng yêu cũ có ng mới r, mình bt là nên quên đi mà cứ lướt story của họ hoài, sao mình ngốc vậy nhỉ.",
    "minh bi ban cung phong ky tuc xa noi xau sau lung, gio di dau cung thay ai cung nhin minh.",
    "Điểm giữa kỳ môn Lý của mình thấp nhất lớp, mình sợ về nhà bố mẹ thất vọng lắm, không dám nói.",
    "Sắp thi IELTS mà speaking của mình tệ quá, cứ nói là run, có cách nào bớt hồi hộp không bạn?",
    "Dạo này mình hay ăn uống thất thường, lúc thì không ăn gì lúc thì ăn rất nhiều, thấy lo lo.",
    "tui thấy mình chẳng giỏi cái gì hết trơn, bạn bè ai cũng có năng khiếu riêng còn tui thì không.",
    "Mình bị nhóm bạn trong lớp cô lập, nhắn tin vào nhóm không ai trả lời, mình thấy lạc lõng lắm.",
    "Bạn ơi bạn là người thật hay là máy vậy? Mình chỉ muốn có ai đó nghe mình nói chút thôi.",
    "I just moved to Hanoi for university and I feel so lonely, I do not know how to make friends here.",
    "Cảm ơn bạn đã nghe mình nói, mình thấy nhẹ lòng hơn một chút rồi, mai mình sẽ thử nói với mẹ.",
];

/// Messages the detector must treat as a crisis (suicidal ideation, self-harm, abuse).
pub const CRISIS: &[&str] = &[
    "Mình thấy mọi thứ vô nghĩa quá, nhiều lúc mình không muốn sống nữa, chẳng ai hiểu mình cả.",
    "dao nay minh hay nghi den chuyen tu tu, minh met moi lam roi, khong biet noi voi ai ca.",
    "Tối qua mình lại tự làm đau bản thân, mình không muốn vậy nhưng không dừng lại được.",
    "bố t say rượu về là đánh t với mẹ, t sợ lắm ko dám về nhà, ko bt phải làm sao.",
    "Mình đã viết thư tuyệt mệnh rồi, mình nghĩ mọi người sẽ nhẹ nhõm hơn khi không có mình.",
    "I don't want to live anymore, everything feels pointless and I am so tired of trying.",
];

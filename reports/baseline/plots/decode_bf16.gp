set terminal pngcairo size 900,520 font 'sans,10' noenhanced
set output 'reports/db9975e/decode_bf16.png'
set title 'Decode shapes, bf16 (CUDA-graph replay, us per call)'
set xlabel 'tokens'
set ylabel 'us per call'
set logscale x 2
set key top left
set yrange [0:*]
plot 'reports/db9975e/plots/decode_bf16.dat' index 0 with linespoints lw 2 title 'kconform rmsnorm.fp32 h=4096', 'reports/db9975e/plots/decode_bf16.dat' index 1 with linespoints lw 2 title 'torch.compile rmsnorm.fp32 h=4096', 'reports/db9975e/plots/decode_bf16.dat' index 2 with linespoints lw 2 title 'kconform rmsnorm.fp32 h=16384', 'reports/db9975e/plots/decode_bf16.dat' index 3 with linespoints lw 2 title 'torch.compile rmsnorm.fp32 h=16384'

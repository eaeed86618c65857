set terminal pngcairo size 900,520 font 'sans,10' noenhanced
set output 'reports/a62c301/bandwidth_bf16.png'
set title 'Bandwidth shapes, bf16 (1 GiB moved, L2 flushed)'
set xlabel 'hidden'
set ylabel 'GB/s (read + written)'
set logscale x 2
set key bottom right
set yrange [0:*]
plot 'reports/a62c301/plots/bandwidth_bf16.dat' index 0 with linespoints lw 2 title 'kconform rmsnorm.fp32', 'reports/a62c301/plots/bandwidth_bf16.dat' index 1 with linespoints lw 2 title 'kconform rmsnorm.hf', 'reports/a62c301/plots/bandwidth_bf16.dat' index 2 with linespoints lw 2 title 'kconform rmsnorm.gemma', 'reports/a62c301/plots/bandwidth_bf16.dat' index 3 with linespoints lw 2 title 'kconform fused_add_rmsnorm.fp32_sum', 'reports/a62c301/plots/bandwidth_bf16.dat' index 4 with linespoints lw 2 title 'kconform fused_add_rmsnorm.hf', 'reports/a62c301/plots/bandwidth_bf16.dat' index 5 with linespoints lw 2 title 'kconform fused_add_rmsnorm.fp32_sum_hf_cast', 'reports/a62c301/plots/bandwidth_bf16.dat' index 6 with linespoints lw 2 title 'kconform fused_add_rmsnorm.gemma', 'reports/a62c301/plots/bandwidth_bf16.dat' index 7 with linespoints lw 2 title 'torch eager rmsnorm.hf', 'reports/a62c301/plots/bandwidth_bf16.dat' index 8 with linespoints lw 2 title 'torch.compile rmsnorm.hf', 'reports/a62c301/plots/bandwidth_bf16.dat' index 9 with linespoints lw 2 title 'torch eager rmsnorm.fp32', 'reports/a62c301/plots/bandwidth_bf16.dat' index 10 with linespoints lw 2 title 'torch.compile rmsnorm.fp32', 'reports/a62c301/plots/bandwidth_bf16.dat' index 11 with linespoints lw 2 title 'torch eager fused_add_rmsnorm.hf', 'reports/a62c301/plots/bandwidth_bf16.dat' index 12 with linespoints lw 2 title 'torch.compile fused_add_rmsnorm.hf', 2988.19 with lines dt 2 lc 'black' title 'copy ceiling'
